"""The Prefect flow: (pull) -> discover -> read and validate each file -> build tables ->
publish.

Large values (verdicts, tables, the summary) go to tasks quoted: Prefect would otherwise walk
every object in them looking for futures, seconds at national scale.

Tasks wrap the plain steps; the flow only wires them. Each file's validation is cached by its
content, the schemas and the code; a run whose inputs equal the latest release's stops early.
"""


import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Cancelled, Completed, Failed, State
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote

from flows.checks.delivery import ValidatedFile, check_file, left_in_motion
from flows.checks.earlier import keep_earlier_deliveries, save_accepted
from flows.checks.keys import merge_duplicates
from flows.checks.spans import Plan, SpanFindings, check_span, combine_spans, plan_delivery
from flows.checks.store import VerdictStore, fresh_folder
from flows.checks.verdict import SUFFIX
from flows.core import progress
from flows.core.diskfault import DiskFault, writing
from flows.core.fingerprint import validation_key
from flows.core.memory import few_arenas, give_back
from flows.core.messages import Said, say, t
from flows.core.problems import Problem
from flows.core.register import DEFAULT_SCHEMAS, load_register
from flows.core.settings import Settings, SettingsError
from flows.inputs import RunInputs, run_inputs, unchanged_since
from flows.intake.discover import RawFile
from flows.intake.motion import pulled_in_motion
from flows.intake.sources import Pulled, SourceError, is_transient, pull
from flows.lock import RunInProgress, publishing, run_lock
from flows.outputs.notify import tell
from flows.outputs.release import (
    PublishError,
    Release,
    current_release,
    read_package,
    reusable,
    write_release,
)
from flows.outputs.run_summary import (
    RunSummary,
    department_summaries,
    file_summaries,
    release_notes,
    set_aside_latest,
    write_run_summary,
)
from flows.outputs.verify import damage_note, latest_damage
from flows.tables.codelists import read_codelists
from flows.tables.datasets import Built, build_tables

SKIPPED = str(say("run.skipped-state"))  # the state of a run that met another run's lock


def _retry_transient(task: Any, task_run: Any, state: State) -> bool:
    try:
        state.result()
    except SourceError:
        return False
    except Exception as error:
        return is_transient(error)
    return False


@task(cache_policy=NO_CACHE, retries=4, retry_delay_seconds=exponential_backoff(2),
      retry_condition_fn=_retry_transient)
def pull_deliveries(source: str, mirror: Path) -> Pulled:
    """Copy the reports from the source into the local mirror; transient errors retry with
    back-off, permanent ones fail at once."""
    pulled = pull(source, mirror)
    logger = get_run_logger()
    logger.info("Hämtade %d filer från %s: %d nya/ändrade, %d borttagna",
                pulled.files, source, len(pulled.updated), len(pulled.removed))
    for name in pulled.moving:
        found = pulled_in_motion(name, name in pulled.kept)
        logger.warning(str(Said(found.message_sv, found.message_en)))
    return pulled


@task(cache_policy=NO_CACHE)
def check_reference_data(schemas_dir: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """The codelists and the Agenda 2030 mapping maintained with the code: their tables and
    their problems."""
    return read_codelists(load_register(schemas_dir))


@task(cache_policy=NO_CACHE, task_run_name="validate-{raw.name}")
def validate_delivery(raw: RawFile, schemas_dir: Path, store_dir: Path, key: str,
                      refresh: bool = False, split_bytes: int = 2**62) -> ValidatedFile | Plan:
    """Read and validate one file - or take its verdict from the store, where a file with
    the same name, bytes, schemas and code left it (`key`). A CSV larger than `split_bytes`
    comes back as a plan: its spans are checked as tasks of their own."""
    store = VerdictStore(store_dir)
    result = None if refresh else store.load(key)
    if result is not None:
        return result
    moving = left_in_motion(raw)  # changed since it was hashed: not read at all
    if moving is not None:
        return moving
    store.forget(key)  # whatever is left there (a damaged verdict, a folder) is written anew
    register = load_register(schemas_dir)
    result = plan_delivery(raw, register, split_bytes)
    if isinstance(result, Plan):
        return result
    if result is None:
        result = check_file(raw, register, into=store.rows(key))
        give_back()
    moving = left_in_motion(raw, store.rows(key))  # changed while it was read: not kept
    if moving is not None:
        return moving
    store.save(key, result)
    progress.report("validated", raw.name)
    return result


@task(cache_policy=NO_CACHE, task_run_name="validate-{plan.raw.name}-{index}")
def validate_span(plan: Plan, index: int, schemas_dir: Path, part: Path) -> SpanFindings:
    """One span of a large delivery (on Dask: on a worker)."""
    return check_span(plan, index, load_register(schemas_dir), part)


@task(cache_policy=NO_CACHE, task_run_name="combine-{plan.raw.name}")
def combine_delivery(plan: Plan, findings: list[SpanFindings], schemas_dir: Path,
                     store_dir: Path, key: str) -> ValidatedFile:
    """A large delivery's verdict from its spans, kept in the store."""
    store = VerdictStore(store_dir)
    result = combine_spans(plan, findings, load_register(schemas_dir), store.rows(key))
    moving = left_in_motion(plan.raw, store.rows(key))  # changed while its spans were read
    if moving is not None:
        return moving
    store.save(key, result)
    progress.report("validated", plan.raw.name)
    return result


def validate_deliveries(files: list[RawFile], keys: list[str], schemas_dir: Path,
                        store: Path, full: bool, split_bytes: int
                        ) -> tuple[list[ValidatedFile], list[str]]:
    """Every file's verdict, and the warnings about damaged verdicts in the store. A file whose
    verdict the store holds (same name, bytes, schemas and code) is not a task at all; the
    others are, and the spans of every large file are submitted at once, so they are checked
    side by side."""
    known = VerdictStore(store)
    known.ready()
    results: list[ValidatedFile | Plan | None] = [
        None if full else known.load(key) for key in keys]
    todo = [i for i, found in enumerate(results) if found is None]
    futures = validate_delivery.map([files[i] for i in todo], unmapped(schemas_dir),
                                    unmapped(store), [keys[i] for i in todo], unmapped(full),
                                    unmapped(split_bytes))
    for index, future in zip(todo, futures, strict=True):
        results[index] = future.result()
    spans = {index: validate_span.map(unmapped(plan), range(len(plan.spans)),
                                      unmapped(schemas_dir),
                                      [store / f"{keys[index]}.part{n}{SUFFIX}"
                                       for n in range(len(plan.spans))])
             for index, plan in enumerate(results) if isinstance(plan, Plan)}
    for index, futures_ in spans.items():
        results[index] = combine_delivery(results[index], quote([f.result() for f in futures_]),
                                          schemas_dir, store, keys[index])
    return results, known.damaged


@task(cache_policy=NO_CACHE)
def build_published_tables(results: list[ValidatedFile], settings: Settings,
                           codelists: dict[str, pd.DataFrame], context: str,
                           keys: dict[str, str], full: bool
                           ) -> tuple[list[ValidatedFile], dict[str, Built], list[str]]:
    """Cross-file key checks, earlier deliveries kept for files rejected whole, the tables:
    each built only when its inputs changed since the latest release (unless full); and the
    warnings about damaged earlier deliveries."""
    register = load_register(settings.schemas_dir)
    state_dir = settings.state_dir
    work = fresh_folder(Path(state_dir) / "work")
    damaged: list[str] = []
    merged = merge_duplicates(keep_earlier_deliveries(state_dir, results, register, work,
                                                      damaged), register, work)
    tables = build_tables(
        merged, register, context=context, min_count=settings.min_count,
        codelists=codelists, work=work, keys=keys,
        reusable=None if full else reusable(current_release(settings.out_dir)))
    give_back()
    return merged, tables, damaged


@task(cache_policy=NO_CACHE)
def gather_inputs(settings: Settings) -> RunInputs:
    """The files delivered and the fingerprint of everything the run is made of."""
    given = run_inputs(settings.raw_dir, settings.schemas_dir, settings)
    progress.report("discovered", str(len(given.found.files)))
    for note in given.notes:  # where Kolada's values came from
        get_run_logger().info(note)
    return given


@task(cache_policy=NO_CACHE)
def publish_release(tables: dict[str, Built], settings: Settings, inputs: str,
                    full: bool = False) -> Release | str:
    """The release, or why there is none (latest is then left as it was)."""
    try:
        release = write_release(tables, load_register(settings.schemas_dir), settings.out_dir,
                                keep=settings.keep_releases, settings=settings, inputs=inputs,
                                reuse=not full)
    except PublishError as error:
        get_run_logger().error("%s: %s", say("run.release-invalid"), error.errors[:20])
        return str(Said(t("run.release-invalid", "sv"), str(error)))
    except DiskFault as fault:  # not the release's fault: say what to do, no traceback
        get_run_logger().error(str(fault))
        return str(fault)
    except Exception as error:  # any other failure: latest stays as it was, the run reports it
        get_run_logger().exception(str(say("run.publishing-failed")))
        return f"{say('run.publishing-failed')}: {type(error).__name__}: {error}"
    progress.report("published", release.version)
    return release


@task(cache_policy=NO_CACHE)
def remember_accepted(state_dir: Path, results: list[ValidatedFile], version: str
                      ) -> list[str]:
    """The published files' rows for the next runs (-> warnings about damaged ones replaced)."""
    damaged: list[str] = []
    save_accepted(state_dir, results, version, damaged)
    return damaged


@task(cache_policy=NO_CACHE)
def write_run_reports(summary: RunSummary, reports_dir: Path) -> Path:
    """reports/ on disk, and the same as Prefect artifacts for the operator's UI."""
    folder = write_run_summary(summary, reports_dir)
    create_table_artifact(
        key="validering-sammanfattning",
        table=[{"fil": f.path, "lasta": f.rows_read, "publicerade": f.rows_published,
                "avvisade": f.rows_rejected, "behallna": f.rows_kept, "fel": len(f.problems)}
               for f in summary.files],
        description=str(say("run.summary-caption")))
    for department, text in department_summaries(summary, folder=folder, shown=20).items():
        create_markdown_artifact(key=f"validering-{department.replace('_', '-')}",
                                 markdown=text, description=f"Valideringsrapport {department}")
    return folder


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_name() -> str:
    from prefect.runtime import flow_run

    raw = Path(flow_run.parameters.get("raw_dir", "raw"))
    return f"publicering-{raw.name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M}"


def _tell_operator(flow: Any, flow_run: Any, state: State) -> None:
    """The flow's hook on completion, failure and crash: the webhook and the departments' mails
    (flows.outputs.notify). A hook, not code in the flow, so that an exception in the flow and
    a crash (Ctrl-C, SIGTERM, a served run's process dying: Prefect's runner runs on_crashed)
    are told too, for `opendata run` and `opendata serve` alike."""
    from prefect.logging.loggers import flow_run_logger

    logger = flow_run_logger(flow_run, flow)
    parameters = flow_run.parameters or {}
    try:
        summary = state.result(raise_on_failure=False)
    except Exception:  # a crashed run's result may be nowhere to be read
        summary = None
    try:
        settings = Settings.from_env(notify_url=parameters.get("notify_url"),
                                     notify_on=parameters.get("notify_on"))
    except ValueError as error:  # the run's outcome stands; only the telling is off
        logger.warning("%s: %s", say("run.not-notified"), error)
        return
    tell(summary if isinstance(summary, RunSummary) else None,
         failed=state.is_failed() or state.is_crashed(), message=state.message,
         reports_dir=Path(parameters.get("reports_dir") or "reports"), settings=settings,
         logger=logger, flow_run={"id": str(flow_run.id), "name": flow_run.name})


@flow(name="publicera-oppna-data", flow_run_name=_run_name, log_prints=True,
      validate_parameters=True, on_completion=[_tell_operator], on_failure=[_tell_operator],
      on_crashed=[_tell_operator])
def publish_open_data(raw_dir: Path = Path("raw"), out_dir: Path = Path("published"),
                      reports_dir: Path = Path("reports"), schemas_dir: Path = DEFAULT_SCHEMAS,
                      state_dir: Path = Path("state"), keep_releases: int = 5,
                      full: bool = False, wait_for_lock: float = 0.0,
                      source: str | None = None, notify_url: str | None = None,
                      notify_on: str | None = None) -> State:
    """Publish Aneby's open data from the department reports in raw_dir.

    Only what changed is redone: a run whose inputs (every file's content, the schemas, the
    code, the output settings) equal the latest release's does nothing more; a changed file
    is validated again while unchanged ones come from the cache. full=True redoes all.
    notify_url and notify_on (failure, problems, always) override OPENDATA_NOTIFY_URL and
    OPENDATA_NOTIFY_ON: who is told how the run went (_tell_operator).

    The settings are built here, once, from these parameters over the environment and .env,
    and passed to every step: what the run hashes is what it uses, on a Dask worker too."""
    logger = get_run_logger()
    try:
        settings = Settings.from_env(
            raw_dir=raw_dir, out_dir=out_dir, reports_dir=reports_dir, schemas_dir=schemas_dir,
            state_dir=state_dir, keep_releases=keep_releases, notify_url=notify_url,
            notify_on=notify_on)
    except SettingsError as error:
        logger.error(str(error))
        return Failed(message=str(error))
    few_arenas()  # the checks run on threads: see flows.core.memory
    try:
        with run_lock(settings.out_dir, wait_for_lock):
            moving = _pull(source, settings.raw_dir) if source else []
            summary, fault = _publish(settings, full, logger, moving)
    except RunInProgress as busy:  # skipped, not failed: the other run publishes the reports
        reason = f"{say('run.skipped', seconds=wait_for_lock)}: {busy}"
        logger.error(reason)
        return Cancelled(name=SKIPPED, message=reason)
    except (NotPulled, DiskFault) as error:  # before anything was published: latest stands
        logger.error(str(error))
        return Failed(message=str(error))
    return _final_state(summary, fault, logger)


class NotPulled(Exception):
    """The source could not be pulled (after the retries of transient errors)."""


def _pull(source: str, raw_dir: Path) -> list[Problem]:
    """Pull the deliveries from `source` into `raw_dir`: the files that changed while they were
    pulled (they are named in the run's reports)."""
    try:
        pulled = pull_deliveries(source, raw_dir)
    except Exception as error:
        raise NotPulled(f"{say('run.not-pulled')}: {error}") from error
    return [pulled_in_motion(name, name in pulled.kept) for name in pulled.moving]


def _final_state(summary: RunSummary, fault: str | None, logger: Any) -> State:
    """Completed when a release was published or nothing changed; else Failed, with why."""
    if fault:
        logger.error(fault)
        return Failed(message=fault, data=summary)
    if summary.unchanged_since:
        return Completed(message=f"{say('run.unchanged')}: {summary.unchanged_since}",
                         data=summary)
    if summary.release is None:
        logger.error("Ingen release publicerades: %s", summary.reason)
        return Failed(message=summary.reason, data=summary)
    return Completed(message=f"Release {summary.release.version}", data=summary)


def _publish(settings: Settings, full: bool, logger: Any,
             moving: list[Problem]) -> tuple[RunSummary, str | None]:
    """The run's summary, and what went wrong after the release was decided (a state or report
    folder that could not be written), if anything. `moving`: files that changed while they
    were pulled - the run goes on (never "nothing changed") so that they are in its reports."""
    given = gather_inputs(settings)
    warnings = _damaged_latest(settings.out_dir, logger)
    rebuild = full or bool(warnings)  # nothing of a damaged release is reused
    previous = None if rebuild or moving else unchanged_since(settings.out_dir, given.inputs)
    if previous:
        logger.info(str(say("run.nothing-changed", version=previous)))
        progress.report("unchanged", previous)
        return RunSummary(raw_dir=str(settings.raw_dir), published=False, files=[],
                          unchanged_since=previous, finished=_now()), None
    # part of the inputs: checked when they change
    codelists, reference = check_reference_data(settings.schemas_dir)
    merged, tables, damaged = _validate_and_build(settings, given, codelists, full, rebuild)
    files = file_summaries(given.found, merged, moving)
    release, fault = None, None
    reason = _nothing_to_publish(reference, files)
    if reason is None:
        release, reason, fault = _release(settings, tables, merged, given.inputs, rebuild,
                                          damaged)
    damaged += set_aside_latest(settings.reports_dir)
    for line in damaged:
        logger.warning(line)
    summary = RunSummary(raw_dir=str(settings.raw_dir), published=release is not None,
                         reason=reason, release=release, files=files,
                         reference_problems=reference, warnings=[*warnings, *damaged],
                         finished=_now())
    return summary, _report(summary, settings.reports_dir, fault, logger)


def _validate_and_build(settings: Settings, given: RunInputs, codelists: dict[str, pd.DataFrame],
                        full: bool, rebuild: bool
                        ) -> tuple[list[ValidatedFile], dict[str, Built], list[str]]:
    """Every file's verdict (from the store when it has one), then the tables: the merged
    verdicts, the tables and the warnings about damaged state replaced."""
    found, context, state_dir = given.found, given.context, settings.state_dir
    keys = [validation_key(f.name, given.digests[f.name], context) for f in found.files]
    store = Path(state_dir) / "verdicts"
    with writing(state_dir):  # verdicts, accepted rows and the build's work files go there
        results, damaged = validate_deliveries(found.files, keys, settings.schemas_dir, store,
                                               full, settings.split_bytes)
        VerdictStore(store).prune(set(keys))
        merged, tables, kept_damaged = build_published_tables(
            quote(results), settings, codelists, context,
            {f.name: k for f, k in zip(found.files, keys, strict=True)}, rebuild)
    return merged, tables, damaged + kept_damaged


def _nothing_to_publish(reference: list[Problem], files: list) -> str | None:
    """Why no release can be made (invalid codelists, no valid row), or None."""
    if any(p.severity == "error" for p in reference):
        return (f"{say('run.codelists-invalid')}: "
                + "; ".join(p.message_en for p in reference if p.severity == "error")[:500])
    if not any(f.rows_published or f.rows_kept for f in files):
        return str(say("run.no-valid-rows"))
    return None


def _release(settings: Settings, tables: dict[str, Built], merged: list[ValidatedFile],
             inputs: str, rebuild: bool, damaged: list[str]
             ) -> tuple[Release | None, str | None, str | None]:
    """The release, or why there is none; and a state folder's fault keeping what it accepted.
    The release and what it accepted are written together (flows.lock.publishing)."""
    with publishing():
        outcome = publish_release(quote(tables), settings, inputs, rebuild)
        if isinstance(outcome, str):
            return None, outcome, None
        return outcome, None, _remember(settings.state_dir, merged, outcome, damaged)


def _report(summary: RunSummary, reports_dir: Path, fault: str | None, logger: Any) -> str | None:
    """The run's reports, the release announced; the run's fault, or a report folder's."""
    try:
        with writing(reports_dir):
            folder = write_run_reports(quote(summary), reports_dir)
    except DiskFault as error:
        folder, fault = None, fault or _after_release(summary.release, error)
    if summary.release is not None:
        _announce(summary.release, logger)
    logger.info("Filer %d, rader lästa %d, publicerade %d, avvisade %d; rapport i %s",
                len(summary.files), summary.rows_read, summary.rows_published,
                summary.rows_rejected, folder)
    return fault


def _damaged_latest(out_dir: Path, logger: Any) -> list[str]:
    """A warning when the latest release was damaged since it was published."""
    damage = latest_damage(out_dir)
    if not damage:
        return []
    note = damage_note(damage, read_package(current_release(out_dir)).get("version"))
    logger.warning(note)
    return [note]


def _remember(state_dir: Path, merged: list[ValidatedFile], release: Release,
              damaged: list[str]) -> str | None:
    """Keep the published deliveries for later runs; a state folder that cannot be written is
    said (the release stands: the next run keeps the deliveries before it). Damaged stored
    deliveries replaced go to `damaged`."""
    try:
        with writing(state_dir):
            damaged += remember_accepted(state_dir, quote(merged), release.version)
    except DiskFault as error:
        return _after_release(release, error)
    return None


def _after_release(release: Release | None, error: DiskFault) -> str:
    if release is None:
        return str(error)
    return f"Release {release.version} {say('run.published-but')}: {error}"


def _announce(release: Release, logger: Any) -> None:
    """The release as an artifact in Prefect's UI; what a format could not hold, logged."""
    create_markdown_artifact(
        key="publicering", description=str(say("run.latest-release")),
        markdown=(f"# Release {release.version}\n\n"
                  f"- {say('run.folder')}: `{release.path}`\n"
                  f"- Data Package: `{release.path / 'datapackage.json'}`\n"
                  f"- Portal: `{release.path / 'index.html'}`\n"
                  f"- {say('run.rows-per-dataset')}: "
                  + ", ".join(f"{k} {v}" for k, v in release.rows.items())
                  + "".join(f"\n- {line}" for line in release_notes(release))))
    for line in release_notes(release):
        logger.warning(line)
