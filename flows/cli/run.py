"""`opendata run`: the publish flow once, with a progress line, a summary and one line for
whatever stopped it. Prefect is imported only here, and only when something changed."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flows.cli.common import (
    NotifyOnOption,
    NotifyOption,
    OutOption,
    RawOption,
    ReportsOption,
    StateOption,
    command,
    console,
    errors,
    fail,
    helped,
    load_settings,
)
from flows.cli.show import print_summary, print_unchanged, print_warnings
from flows.core.messages import say
from flows.core.runlog import one_line
from flows.core.settings import Settings, configure_prefect_environment
from flows.processes import stop_signals_unwind


@command("run", "opendata run --raw raw --out published",
         "opendata run --task-runner dask --dask-address tcp://h:8786")
@stop_signals_unwind()  # SIGTERM: Prefect's temporary server and Dask's workers stop at exit
def run(
    raw: RawOption = None,
    out: OutOption = None,
    reports: ReportsOption = None,
    state: StateOption = None,
    full: Annotated[bool, typer.Option("--full", help=helped("cli.run.full"))] = False,
    source: Annotated[str | None, typer.Option(help=helped("cli.run.source"))] = None,
    wait: Annotated[float, typer.Option(help=helped("cli.run.wait"))] = 0.0,
    task_runner: Annotated[str, typer.Option(help=helped("cli.run.task-runner"))] = "threads",
    dask_address: Annotated[str | None, typer.Option(help=helped("cli.run.dask-address"))
                            ] = None,
    notify: NotifyOption = None,
    notify_on: NotifyOnOption = None,
) -> None:
    """Reads raw/<år>/<förvaltning>/<rapporttyp>.<csv|xlsx|json>, validates every file, publishes
    a release to OUT/latest and prints a summary. Only what changed is redone (--full redoes
    everything). Exit 0 when a release was published or nothing had changed, 1 when nothing
    could be published (or another run holds the lock, a folder is full or cannot be written,
    or the release was published but its state or report could not be kept), 2 on usage
    errors."""
    settings = load_settings(raw_dir=raw, out_dir=out, reports_dir=reports, state_dir=state,
                             notify_url=notify, notify_on=notify_on)
    source = _ready(settings, task_runner, source)
    if not full and not source and not settings.kolada_api and _unchanged(settings):
        return
    _check_folders(settings)
    to, log = _divert_to_run_log(settings.reports_dir)
    configure_prefect_environment()
    unsent: list[str] = []  # notifications that could not be sent: said after the outcome
    state = _run_flow(dict(
        raw_dir=settings.raw_dir, out_dir=settings.out_dir, full=full, source=source,
        wait_for_lock=wait, reports_dir=settings.reports_dir, schemas_dir=settings.schemas_dir,
        state_dir=settings.state_dir, keep_releases=settings.keep_releases, notify_url=notify,
        notify_on=notify_on), task_runner, dask_address, to, log, unsent)
    for line in unsent:
        to.print(f"[yellow]{line}[/yellow]", highlight=False, soft_wrap=True)
    _tell_outcome(state, settings, to, log)


def _ready(settings: Settings, task_runner: str, source: str | None) -> str | None:
    """The source to pull from (the option's or the setting's), once the options make sense
    and the raw folder is there (made for a source): else a red line, exit 2."""
    if task_runner not in ("threads", "dask"):
        raise fail(say("cli.run.bad-task-runner"), 2)
    source = source or settings.source
    if source:
        settings.raw_dir.mkdir(parents=True, exist_ok=True)
    if not settings.raw_dir.is_dir():
        errors.print(f"[red]{say('cli.run.no-raw', folder=settings.raw_dir)}[/red] "
                     f"{say('cli.run.give-raw')}")
        raise typer.Exit(2)
    return source


def _unchanged(settings: Settings) -> bool:
    """Nothing changed since the latest release: said (and told) without starting Prefect."""
    from flows.inputs import run_inputs, unchanged_since

    previous = unchanged_since(settings.out_dir, run_inputs(
        settings.raw_dir, settings.schemas_dir, settings).inputs)
    if previous:
        print_unchanged(previous, settings.out_dir)
        _tell_unchanged(settings, previous)
    return bool(previous)


def _tell_outcome(state, settings: Settings, to: Console, log: Path | None) -> None:
    """The flow's outcome: unchanged, or the summary, the warnings and where the release is;
    exit 1 when nothing was published or the run did not finish."""
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, BaseException) or summary is None:
        _stop(to, log, say("cli.run.stopped"), one_line(state.message))
    if summary.unchanged_since:
        print_unchanged(summary.unchanged_since, settings.out_dir)
        return
    print_summary(summary)
    print_warnings(to, summary, settings.reports_dir / "latest")
    if not summary.published:
        _stop(to, log, say("cli.run.nothing-published"), summary.reason)
    console.print(f"[green]{say('cli.run.published')}:[/green] {settings.out_dir / 'latest'} "
                  f"(release {summary.release.version}); {say('cli.run.report')}: "
                  f"{settings.reports_dir / 'latest' / 'summary.json'}")
    if state.is_failed():  # published, but its state or report could not be kept
        _stop(to, log, say("cli.run.not-finished"), one_line(state.message))
    _name_log(to, log)


def _check_folders(settings: Settings) -> None:
    """Every folder the run writes, tried before Prefect starts: a full disk or a folder that
    cannot be written is said at once, by name, not after minutes of work."""
    from flows.core.diskfault import DiskFault, check_writable
    from flows.core.settings import prefect_home

    for folder in (settings.out_dir, settings.reports_dir, settings.state_dir, prefect_home()):
        try:
            check_writable(folder)
        except DiskFault as fault:
            errors.print(f"[red]{say('cli.run.did-not-start')}:[/red] {fault}",
                         highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


def _run_flow(parameters: dict, task_runner: str, dask_address: str | None, to: Console,
              log: Path | None, unsent: list[str]):
    """The flow's final state, with a progress line while it runs (notifications that could
    not be sent go to `unsent`). An error that escapes Prefect itself (its home on a full
    disk, its server gone) is said in one line."""
    from flows.core import progress
    from flows.core.diskfault import explain
    from flows.core.settings import prefect_home

    flow = _flow(task_runner, dask_address)
    with console.status(str(say("cli.run.starting"))) as status:
        progress.listen(_show_progress(status, unsent))
        stop_watching = _watch_server(status, to, log, parameters["out_dir"])
        try:
            return flow(**parameters, return_state=True)
        except Exception as error:
            message = explain(error, prefect_home()) or f"{type(error).__name__}: {error}"
        finally:
            stop_watching()
            progress.listen(None)
    _stop(to, log, say("cli.run.stopped"), one_line(message))


def _flow(task_runner: str, dask_address: str | None):
    """The publish flow on threads, or on Dask (a cluster at `dask_address`, or a local one)."""
    from flows.pipeline import publish_open_data

    if task_runner != "dask":
        return publish_open_data
    from prefect_dask import DaskTaskRunner

    return publish_open_data.with_options(task_runner=DaskTaskRunner(
        address=dask_address) if dask_address else DaskTaskRunner(
        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1}))


def _show_progress(status, unsent: list[str]):
    done = 0

    def show(step: str, detail: str) -> None:
        nonlocal done
        if step == "validated":
            done += 1
            status.update(f"{say('cli.run.validating')} ({done}): {detail}")
        elif step == "discovered":
            status.update(str(say("cli.run.discovered", count=detail)))
        elif step == "published":
            status.update(str(say("cli.run.published-release", version=detail)))
        elif step == "notify-failed":
            unsent.append(detail)
    return show


def _stop(to: Console, log: Path | None, what: object, why: str | None) -> None:
    """One red line, the log's name, exit 1."""
    to.print(f"[red]{what}:[/red] {why}", highlight=False, soft_wrap=True)
    _name_log(to, log)
    raise typer.Exit(1)


def _tell_unchanged(settings: Settings, previous: str) -> None:
    """Nothing changed, so no flow ran and no hook: told here when the webhook wants every run
    (--notify-on always), as a served run would be."""
    if not settings.notify_url or settings.notify_on != "always":
        return
    import datetime as dt
    import logging

    from flows.outputs.notify import tell
    from flows.outputs.run_summary import RunSummary

    summary = RunSummary(raw_dir=str(settings.raw_dir), published=False, files=[],
                         unchanged_since=previous,
                         finished=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    tell(summary, failed=False, message=None, reports_dir=settings.reports_dir,
         settings=settings, logger=logging.getLogger("opendata.notify"))


def _watch_server(status, to: Console, log: Path | None, out_dir: Path):
    """Prefect's temporary server, started and watched (flows.serving): if it goes away the
    run ends at once, exit 1, with one line saying what happened and what latest is. Returns
    the function that stops the watching."""
    from flows.serving import ServerDidNotStart, watch_temporary_server

    def gone(code: int) -> None:
        status.stop()
        line = f"{say('cli.run.server-gone', code=code)} {latest_now(out_dir)}."
        if log is not None:
            print(f"ERROR | {line}", file=sys.stderr, flush=True)  # into the run's log
        to.print(f"[red]{say('cli.run.stopped')}:[/red] {line}", highlight=False, soft_wrap=True)
        _name_log(to, log)
        to.file.flush()

    try:
        return watch_temporary_server(gone)
    except ServerDidNotStart as error:
        status.stop()
        to.print(f"[red]{say('cli.run.no-temporary-server')}:[/red] {error}", highlight=False,
                 soft_wrap=True)
        _name_log(to, log)
        raise typer.Exit(1) from None


def latest_now(out_dir: Path) -> object:
    """What `latest` is now: a complete release, or none."""
    latest = out_dir / "latest"
    if latest.is_dir():
        return say("cli.run.latest-is", latest=latest, version=latest.resolve().name)
    return say("cli.run.no-latest", latest=latest)


def _divert_to_run_log(reports_dir: Path) -> tuple[Console, Path | None]:
    """From here on the process's standard error (Prefect's log, its temporary server, its
    shutdown at exit) goes to reports/logs/run-<time>.log; the command speaks through the
    console returned. Prefect logs at INFO there (unless PREFECT_LOGGING_LEVEL says
    otherwise)."""
    from flows.core.runlog import divert_stderr

    diverted = divert_stderr(reports_dir / "logs")
    if diverted is None:  # standard error is a test runner's: leave it
        return errors, None
    log, stream = diverted
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    return Console(file=stream), log


def _name_log(to: Console, log: Path | None) -> None:
    if log is not None:
        to.print(f"[dim]{say('cli.run.log')}: {log}[/dim]", highlight=False, soft_wrap=True)
