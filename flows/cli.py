"""The `opendata` command: a thin layer over the steps. Prefect is imported only by `run`."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flows.core.settings import Settings, SettingsError, configure_prefect_environment
from flows.processes import stop_signals_unwind

app = typer.Typer(
    help="Aneby öppna data: validera förvaltningarnas rapporter och publicera öppna data.\n\n"
         "Aneby open data: validate the departments' reports and publish open data.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
    pretty_exceptions_show_locals=False)
console = Console()
errors = Console(stderr=True)


def load_settings(**given: object) -> Settings:
    """The command's one Settings: the options given over the environment, .env and the
    defaults. An invalid value is one red line naming its variable, exit 2."""
    try:
        return Settings.from_env(**given)
    except SettingsError as error:
        errors.print(f"[red]{error}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


# the folders every command that runs or shows the flow takes
RawOption = Annotated[Path | None, typer.Option(help="Mapp med rapporter / folder of reports.")]
OutOption = Annotated[Path | None, typer.Option(help="Mapp för publicering / output folder.")]
ReportsOption = Annotated[Path | None, typer.Option(
    help="Mapp för interna körrapporter / folder for internal run reports.")]
StateOption = Annotated[Path | None, typer.Option(
    help="Mapp för senaste giltiga leveranser / folder for the last valid deliveries.")]
# who is told how a run went (run and serve); checked by Settings like OPENDATA_NOTIFY_*
NotifyOption = Annotated[str | None, typer.Option(
    help="Webhook som får varje körnings utfall som JSON / a webhook told how each run went "
         "(OPENDATA_NOTIFY_URL).")]
NotifyOnOption = Annotated[str | None, typer.Option(
    help="När webhooken meddelas / when the webhook is told: failure, problems (standard) "
         "eller always.")]


@app.command()
@stop_signals_unwind()  # SIGTERM: Prefect's temporary server and Dask's workers stop at exit
def run(
    raw: RawOption = None,
    out: OutOption = None,
    reports: ReportsOption = None,
    state: StateOption = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Gör om allt, även det som inte ändrats / redo everything.")] = False,
    source: Annotated[str | None, typer.Option(
        help="Hämta rapporterna från en URL (fsspec: en mapp, s3://, sftp://, https://) till "
             "--raw / pull the reports from a URL into --raw.")] = None,
    wait: Annotated[float, typer.Option(
        help="Sekunder att vänta om en annan körning pågår / seconds to wait for another "
             "run.")] = 0.0,
    task_runner: Annotated[str, typer.Option(
        help="threads (standard) eller dask / threads (default) or dask.")] = "threads",
    dask_address: Annotated[str | None, typer.Option(
        help="Befintligt Dask-kluster, t.ex. tcp://schemalaggare:8786 / an existing Dask "
             "cluster (default: a LocalCluster).")] = None,
    notify: NotifyOption = None,
    notify_on: NotifyOnOption = None,
) -> None:
    """Kör publiceringsflödet en gång / run the publish flow once.

    Reads raw/<år>/<förvaltning>/<rapporttyp>.<csv|xlsx|json>, validates every file, publishes
    a release to OUT/latest and prints a summary. Only what changed is redone (--full redoes
    everything). Exit 0 when a release was published or nothing had changed, 1 when nothing
    could be published (or another run holds the lock, a folder is full or cannot be written,
    or the release was published but its state or report could not be kept), 2 on usage
    errors.

    [bold]Exempel / example:[/bold] opendata run --raw raw --out published

    [bold]Exempel / example:[/bold] opendata run --task-runner dask --dask-address tcp://h:8786
    """
    settings = load_settings(raw_dir=raw, out_dir=out, reports_dir=reports, state_dir=state,
                             notify_url=notify, notify_on=notify_on)
    if task_runner not in ("threads", "dask"):
        errors.print("[red]--task-runner är threads eller dask / is threads or dask.[/red]")
        raise typer.Exit(2)
    source = source or settings.source
    if source:
        settings.raw_dir.mkdir(parents=True, exist_ok=True)
    if not settings.raw_dir.is_dir():
        errors.print(f"[red]Mappen {settings.raw_dir} finns inte / the folder does not exist.[/red]"
                     " Ange --raw MAPP / give --raw DIR.")
        raise typer.Exit(2)
    if not full and not source and not settings.kolada_api:  # nothing changed: say so
        from flows.inputs import run_inputs, unchanged_since

        previous = unchanged_since(settings.out_dir, run_inputs(
            settings.raw_dir, settings.schemas_dir, settings).inputs)
        if previous:
            print_unchanged(previous, settings.out_dir)
            _tell_unchanged(settings, previous)
            return
    _check_folders(settings)
    say, log = _divert_to_run_log(settings.reports_dir)
    configure_prefect_environment()
    unsent: list[str] = []  # notifications that could not be sent: said after the outcome
    state = _run_flow(dict(
        raw_dir=settings.raw_dir, out_dir=settings.out_dir, full=full, source=source,
        wait_for_lock=wait, reports_dir=settings.reports_dir, schemas_dir=settings.schemas_dir,
        state_dir=settings.state_dir, keep_releases=settings.keep_releases, notify_url=notify,
        notify_on=notify_on), task_runner, dask_address, say, log, unsent)
    for line in unsent:
        say.print(f"[yellow]{line}[/yellow]", highlight=False, soft_wrap=True)
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, BaseException) or summary is None:
        _stop(say, log, "Flödet avbröts / the flow stopped", _one_line(state.message))
    if summary.unchanged_since:
        print_unchanged(summary.unchanged_since, settings.out_dir)
        return
    print_summary(summary)
    print_warnings(say, summary, settings.reports_dir / "latest")
    if not summary.published:
        _stop(say, log, "Ingen release publicerades / nothing was published", summary.reason)
    console.print(f"[green]Publicerad / published:[/green] {settings.out_dir / 'latest'} "
                  f"(release {summary.release.version}); rapport / report: "
                  f"{settings.reports_dir / 'latest' / 'summary.json'}")
    if state.is_failed():  # published, but its state or report could not be kept
        _stop(say, log, "Körningen slutfördes inte / the run did not finish",
              _one_line(state.message))
    _name_log(say, log)


def _check_folders(settings: Settings) -> None:
    """Every folder the run writes, tried before Prefect starts: a full disk or a folder that
    cannot be written is said at once, by name, not after minutes of work."""
    from flows.core.diskfault import DiskFault, check_writable
    from flows.core.settings import prefect_home

    for folder in (settings.out_dir, settings.reports_dir, settings.state_dir, prefect_home()):
        try:
            check_writable(folder)
        except DiskFault as fault:
            errors.print(f"[red]Körningen startade inte / the run did not start:[/red] {fault}",
                         highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


def _run_flow(parameters: dict, task_runner: str, dask_address: str | None, say: Console,
              log: Path | None, unsent: list[str]):
    """The flow's final state, with a progress line while it runs (notifications that could
    not be sent go to `unsent`). An error that escapes Prefect itself (its home on a full
    disk, its server gone) is said in one line."""
    from flows.core import progress
    from flows.core.diskfault import explain
    from flows.core.settings import prefect_home
    from flows.pipeline import publish_open_data

    flow = publish_open_data
    if task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        flow = publish_open_data.with_options(task_runner=DaskTaskRunner(
            address=dask_address) if dask_address else DaskTaskRunner(
            cluster_kwargs={"n_workers": 2, "threads_per_worker": 1}))
    with console.status("Startar Prefect och publiceringsflödet / starting the flow…") as status:
        progress.listen(_show_progress(status, unsent))
        stop_watching = _watch_temporary_server(status, say, log, parameters["out_dir"])
        try:
            return flow(**parameters, return_state=True)
        except Exception as error:
            message = explain(error, prefect_home()) or f"{type(error).__name__}: {error}"
        finally:
            stop_watching()
            progress.listen(None)
    _stop(say, log, "Flödet avbröts / the flow stopped", _one_line(message))


def _show_progress(status, unsent: list[str]):
    done = 0

    def show(step: str, detail: str) -> None:
        nonlocal done
        if step == "validated":
            done += 1
            status.update(f"Validerar / validating ({done}): {detail}")
        elif step == "discovered":
            status.update(f"Hittade {detail} filer / found {detail} files")
        elif step == "published":
            status.update(f"Publicerade release / published release {detail}")
        elif step == "notify-failed":
            unsent.append(detail)
    return show


def _stop(say: Console, log: Path | None, what: str, why: str | None) -> None:
    """One red line, the log's name, exit 1."""
    say.print(f"[red]{what}:[/red] {why}", highlight=False, soft_wrap=True)
    _name_log(say, log)
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


def _watch_temporary_server(status, say: Console, log: Path | None, out_dir: Path):
    """Start Prefect's temporary server now (as the flow would) and watch it. It cannot come
    back once gone, and without it Prefect retries every request for a minute and waits for
    minutes at exit: so the run ends at once, between writes of published/ (see
    flows.lock.end_between_writes), exit 1, with one line saying what happened. Returns the
    function that stops the watching (a no-op when PREFECT_API_URL names a server)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    if PREFECT_API_URL.value():
        return lambda: None
    from prefect.server.api.server import SubprocessASGIServer

    from flows.lock import end_between_writes
    from flows.processes import when_gone

    server = SubprocessASGIServer()  # the one Prefect's client uses
    try:  # a busy machine may need more than Prefect's 20 s
        server.start(timeout=max(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(), 120))
    except RuntimeError as error:
        status.stop()
        say.print(f"[red]Prefects tillfälliga server startade inte; kör igen, eller sätt "
                  f"PREFECT_API_URL till en Prefect-server / Prefect's temporary server did not "
                  f"start; run again, or set PREFECT_API_URL to a Prefect server:[/red] "
                  f"{_one_line(str(error))[:200]}", highlight=False, soft_wrap=True)
        _name_log(say, log)
        raise typer.Exit(1) from None

    def gone(code: int) -> None:
        def last_words() -> None:
            status.stop()
            latest = out_dir / "latest"
            now = (f"{latest} är release {latest.resolve().name} (hel) / latest is release "
                   f"{latest.resolve().name} (complete)" if latest.is_dir() else
                   f"ingen release i {latest} / no release in {latest}")
            line = (f"Prefect-servern försvann under körningen (kod {code}); kör `opendata run` "
                    f"igen / the Prefect server went away during the run (code {code}); run "
                    f"`opendata run` again. {now}.")
            if log is not None:
                print(f"ERROR | {line}", file=sys.stderr, flush=True)  # into the run's log
            say.print(f"[red]Flödet avbröts / the flow stopped:[/red] {line}", highlight=False,
                      soft_wrap=True)
            _name_log(say, log)
            say.file.flush()
        end_between_writes(last_words)

    return when_gone(server.server_process, gone)


def _divert_to_run_log(reports_dir: Path) -> tuple[Console, Path | None]:
    """From here on the process's standard error (Prefect's log, its temporary server, its
    shutdown at exit) goes to reports/logs/run-<time>.log; the command speaks through `say`.
    Prefect logs at INFO there (unless PREFECT_LOGGING_LEVEL says otherwise)."""
    from flows.core.runlog import divert_stderr

    diverted = divert_stderr(reports_dir / "logs")
    if diverted is None:  # standard error is a test runner's: leave it
        return errors, None
    log, stream = diverted
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    return Console(file=stream), log


def _name_log(say: Console, log: Path | None) -> None:
    if log is not None:
        say.print(f"[dim]Körningens logg / the run's log: {log}[/dim]", highlight=False,
                  soft_wrap=True)


def _one_line(message: str | None) -> str:
    text = " ".join((message or "").split())
    return text.removeprefix("Flow run encountered an exception: ")[:500]


def print_warnings(say: Console, summary, reports: Path) -> None:
    """Files in motion, kept deliveries, codelist problems, faults met and mended (a damaged
    release or state file), datasets that kept their previous release and values a format
    could not hold: one line per kind, the full lists in the reports."""
    from flows.outputs.run_summary import collapsed, kept_note, release_notes

    for file in summary.files:
        for moved in (p for p in file.problems if p.type == "file-in-motion"):
            say.print(f"[yellow]{moved.message_sv} / {moved.message_en}[/yellow]",
                      highlight=False, soft_wrap=True)
        if file.kept_from:
            say.print(f"[yellow]{kept_note(file)}[/yellow]", highlight=False)
    for severity, line in collapsed(summary.reference_problems, str(reports / "kodlistor.md")):
        colour = "yellow" if severity == "warning" else "red"
        say.print(f"[{colour}]{line}[/{colour}]", highlight=False)
    for line in [*summary.warnings, *release_notes(summary.release)]:
        say.print(f"[yellow]{line}[/yellow]", highlight=False, soft_wrap=True)


def print_unchanged(version: str, out_dir: Path) -> None:
    console.print(f"Inget har ändrats sedan release {version}: {out_dir / 'latest'} är "
                  f"oförändrad. / Nothing changed since release {version}; latest is unchanged "
                  "(--full redoes everything).")


def print_summary(summary) -> None:
    table = Table(title="Sammanfattning / summary",
                  caption="Lästa = publicerade + avvisade / read = published + rejected")
    width = max([len(f.path) for f in summary.files] + [10])
    table.add_column("Fil / file", min_width=width, no_wrap=True)
    for column in ("Lästa\nread", "Publicerade\npublished", "Avvisade\nrejected", "Fel\nerrors"):
        table.add_column(column, justify="right")
    for file in summary.files:
        style = "red" if file.file_rejected else ("yellow" if file.rows_rejected else None)
        table.add_row(file.path, str(file.rows_read), str(file.rows_published),
                      str(file.rows_rejected), str(len(file.problems)), style=style)
    table.add_section()
    table.add_row(f"{len(summary.files)} filer / files", str(summary.rows_read),
                  str(summary.rows_published), str(summary.rows_rejected),
                  str(len(summary.problems)), style="bold")
    console.print(table)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Filer att kontrollera / files to check.")],
    report_type: Annotated[str | None, typer.Option(
        "--type", help="Rapporttyp om filnamnet inte säger det / report type.")] = None,
    department: Annotated[str | None, typer.Option(
        help="Förvaltning om mappen inte säger det / department.")] = None,
    year: Annotated[int | None, typer.Option(help="År om mappen inte säger det / year.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata / JSON.")] = False,
    schema: Annotated[Path | None, typer.Option(
        help="Valfritt Table Schema: validera vilken CSV som helst, snabbt / any CSV against "
             "any Table Schema, fast, with Frictionless's verdict.")] = None,
    lookup: Annotated[list[str] | None, typer.Option(
        help="Med --schema: NAMN=CSV för främmande nycklar / NAME=CSV for foreign keys.")
    ] = None,
) -> None:
    """Kontrollera rapporter före leverans / check reports before delivering them.

    Runs the same checks as the flow. The year and department come from the folders
    (<år>/<förvaltning>/<rapporttyp>.csv) or from --year/--department. Exit 0 when every row
    is valid, 1 otherwise, 2 on usage errors.

    With --schema, validates any CSV against any Frictionless Table Schema at the speed of
    reading the file, with the same errors as `frictionless validate` (all of them, no limit).

    [bold]Exempel / example:[/bold] opendata validate raw/2020/social/aktiviteter.csv

    [bold]Exempel / example:[/bold] opendata validate data.csv --schema schema.yaml --json
    """
    if schema is not None:
        validate_with_schema(paths, schema, lookup or [], as_json)
        return
    from flows.checks.delivery import check_file, rejected_file
    from flows.checks.keys import merge_duplicates
    from flows.core.problems import Problem
    from flows.core.register import load_register
    from flows.intake.discover import classify

    register = load_register(load_settings().schemas_dir)
    results = []
    for path in paths:
        if not path.is_file():
            errors.print(f"[red]Filen {path} finns inte / file not found.[/red]")
            raise typer.Exit(2)
        name = path.as_posix()
        found = classify(path, name, register, strict_layout=False, report_type=report_type,
                         department=department, year=year)
        if isinstance(found, Problem):
            results.append(rejected_file(name, report_type or path.stem, [found]))
        else:
            results.append(check_file(found, register))
    results = merge_duplicates(results, register)
    valid = all(not r.problems for r in results)
    if as_json:
        payload = {"valid": valid, "files": [{
            "path": r.file, "report_type": r.report_type, "department": r.department,
            "year": r.year, "rows_read": r.rows_read, "rows_valid": r.rows_published,
            "rows_rejected": r.rows_rejected,
            "errors": [p.model_dump() for p in r.problems]} for r in results]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        for result in results:
            print_file_verdict(result)
    raise typer.Exit(0 if valid else 1)


@app.command()
def verify(
    release: Annotated[Path | None, typer.Argument(
        help="En release-mapp (standard: OUT/latest) / a release folder (default OUT/latest).")
    ] = None,
    out: OutOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata / JSON.")] = False,
) -> None:
    """Kontrollera en publicerad release / check a published release.

    Every file against SHA256SUMS (none missing, none added, none changed), then every CSV
    against the schema in its datapackage.json with Frictionless's verdict (foreign keys
    included). Exit 0 when the release is intact, 1 when it is damaged or missing.

    [bold]Exempel / example:[/bold] opendata verify

    [bold]Exempel / example:[/bold] opendata verify published/releases/20261202T020000Z --json
    """
    from flows.outputs.verify import verify_release

    folder = release or load_settings(out_dir=out).out_dir / "latest"
    damage = verify_release(folder.resolve())
    if as_json:
        sys.stdout.write(json.dumps({"release": str(folder), "intact": not damage,
                                     "damage": [d.model_dump() for d in damage]},
                                    ensure_ascii=False, indent=2) + "\n")
    elif damage:
        for item in damage:
            errors.print(f"[red]{item.message}[/red]", highlight=False, soft_wrap=True)
        errors.print(f"[red]{folder}: skadad / damaged[/red] ({len(damage)}). Kör [bold]opendata "
                     "run[/bold] för att publicera en ny, komplett release / run opendata run to "
                     "publish a fresh, complete release.", highlight=False)
    else:
        console.print(f"[green]{folder}: hel / intact[/green] (SHA256SUMS, Data Package)",
                      highlight=False)
    raise typer.Exit(1 if damage else 0)


@app.command()
def serve(
    raw: RawOption = None,
    out: OutOption = None,
    cron: Annotated[str, typer.Option(help="Schema / schedule (cron).")] = "0 2 * * *",
    timezone: Annotated[str, typer.Option(help="Tidszon / time zone.")] = "Europe/Stockholm",
    host: Annotated[str, typer.Option(help="Prefect-serverns adress / server host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Prefect-serverns port / server port.")] = 4200,
    name: Annotated[str, typer.Option(help="Deploymentens namn / deployment name.")] =
        "nattlig-publicering",
    notify: NotifyOption = None,
    notify_on: NotifyOnOption = None,
) -> None:
    """Schemalagd publicering på en Prefect-server / scheduled publishing on a Prefect server.

    Starts a local Prefect server (SQLite under PREFECT_HOME; PostgreSQL when
    PREFECT_API_DATABASE_CONNECTION_URL is set) unless PREFECT_API_URL points at one, and
    serves the publish deployment on the cron schedule (default nightly at 02:00,
    Europe/Stockholm). A server that dies is started again (up to 3 times an hour; then exit
    1, for systemd to restart serve). Stop with Ctrl-C or SIGTERM (or SIGHUP): runs in
    progress are stopped, then the Prefect server; exit 0.

    [bold]Exempel / example:[/bold] opendata serve --cron "0 2 * * *"
    """
    settings = load_settings(raw_dir=raw, out_dir=out, notify_url=notify, notify_on=notify_on)
    if notify:  # the runs get it from the environment: a URL's token stays out of the Prefect UI
        os.environ["OPENDATA_NOTIFY_URL"] = notify
    configure_prefect_environment()
    server, gave_up = None, []
    with stop_signals_unwind():  # SIGTERM and SIGHUP unwind like Ctrl-C: the finally runs
        try:
            if not os.environ.get("PREFECT_API_URL"):
                server = _start_kept_server(host, port, gave_up)
            from prefect.schedules import Cron

            from flows.pipeline import publish_open_data

            parameters = {"raw_dir": str(settings.raw_dir.resolve()),
                          "out_dir": str(settings.out_dir.resolve()),
                          "reports_dir": str(settings.reports_dir.resolve()),
                          "state_dir": str(settings.state_dir.resolve()),
                          "schemas_dir": str(settings.schemas_dir.resolve()),
                          "keep_releases": settings.keep_releases, "wait_for_lock": 600.0,
                          "notify_on": settings.notify_on}
            # Prefect's runner stops by itself on SIGTERM and Ctrl-C, and stops its flow runs
            publish_open_data.serve(name=name, schedules=[Cron(cron, timezone=timezone)],
                                    parameters=parameters)
        except KeyboardInterrupt:
            pass
        finally:
            if server is not None:
                server.stop()
    if gave_up:
        errors.print(f"[red]Prefect-servern dog gång på gång (senast kod {gave_up[0]}); "
                     "`opendata serve` avslutas med kod 1 så att systemd (Restart=on-failure) "
                     "startar om den. Se serverns utskrifter ovan. / The Prefect server kept "
                     f"dying (last code {gave_up[0]}); serve exits 1 so that systemd restarts "
                     "it. See the server's output above.[/red]", highlight=False)
        raise typer.Exit(1)
    console.print("Stoppad / stopped.", highlight=False)


def _start_kept_server(host: str, port: int, gave_up: list[int]):
    """`opendata serve`'s Prefect server, started again when it dies (its database keeps the
    deployment, its schedule and the runs; the runner and a flow run in progress retry their
    requests for about a minute meanwhile). When it keeps dying, serve stops (as on SIGTERM)
    and exits 1, for systemd to restart."""
    from flows.processes import KeptServer

    api = f"http://{host}:{port}/api"
    console.print(f"Startar Prefect-servern / starting the Prefect server: {api}",
                  highlight=False)

    def give_up(code: int) -> None:
        gave_up.append(code)
        os.kill(os.getpid(), signal.SIGTERM)

    server = KeptServer([sys.executable, "-m", "prefect", "server", "start", "--host", host,
                         "--port", str(port)], f"{api}/health",
                        say=lambda line: console.print(line, highlight=False, soft_wrap=True),
                        give_up=give_up)
    try:
        healthy = server.healthy()
    except BaseException:  # stopped while it starts
        server.stop()
        raise
    if not healthy:
        server.stop()
        errors.print("[red]Prefect-servern startade inte / the server did not start.[/red]")
        raise typer.Exit(1)
    os.environ["PREFECT_API_URL"] = api
    server.keep()
    return server


@app.command()
def kolada(
    kpi: Annotated[list[str], typer.Option(help="Nyckeltals-id i Kolada / Kolada key figure.")],
    out: Annotated[Path, typer.Option(help="JSON-fil att skriva / JSON file to write.")],
    municipality: Annotated[list[str] | None, typer.Option(help="Kommunkod.")] = None,
    years: Annotated[str, typer.Option(help="År, t.ex. 2019-2022 / years.")] = "2019-2022",
    api: Annotated[str, typer.Option(help="Koladas API / the API's base URL.")] =
        "https://api.kolada.se/v3",
) -> None:
    """Hämta nyckeltal från Kolada / fetch key figures from Kolada's API.

    Writes Kolada's response shape, which the flow reads as a nyckeltal delivery, e.g. to
    raw/2021/kommunledning/nyckeltal.json. Pages are followed; transient errors retried.

    [bold]Exempel / example:[/bold] opendata kolada --kpi N00090 --years 2019-2022 --out k.json
    """
    from flows.intake.kolada import KoladaError, fetch_values

    start, _, end = years.partition("-")
    try:
        result = fetch_values(kpi, municipality or ["0604"],
                              list(range(int(start), int(end or start) + 1)), api=api)
    except (KoladaError, OSError) as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"{result['count']} värden / values -> {out}", highlight=False)


@app.command()
def browse(
    out: OutOption = None,
    host: Annotated[str, typer.Option(help="Adress / host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8001,
) -> None:
    """Visa senaste releasen i Datasette / serve the latest release with Datasette.

    JSON API, SQL queries and CSV export over published/latest/opendata.db, with the datasets'
    titles, descriptions and licence.

    [bold]Exempel / example:[/bold] opendata browse --port 8001
    """
    settings = load_settings(out_dir=out)
    latest = settings.out_dir / "latest"
    database = latest / "opendata.db"
    if not database.is_file():
        errors.print(f"[red]Ingen release i {latest} / no release yet.[/red] Kör / run: "
                     "opendata run")
        raise typer.Exit(1)
    console.print(f"Datasette: http://{host}:{port}/opendata", highlight=False)
    sys.stdout.flush()
    sys.stderr.flush()
    # This process becomes Datasette: signals reach it directly (SIGTERM and Ctrl-C shut it
    # down gracefully), a supervisor's pid is the server's, and there is no child to orphan.
    # immutable: the release never changes, so Datasette may count and cache freely
    os.execv(sys.executable, [
        sys.executable, "-m", "datasette", "serve", "--immutable", str(database),
        "--metadata", str(latest / "datasette.json"), "--host", host, "--port", str(port)])


@app.command("settings")
def show_settings(
    raw: RawOption = None,
    out: OutOption = None,
    reports: ReportsOption = None,
    state: StateOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Maskinläsbar utdata / JSON.")] = False,
) -> None:
    """Visa inställningarna och var de kommer ifrån / show the settings and their sources.

    Every setting's effective value and where it came from: the command line, the environment
    (OPENDATA_*), the .env file in the working directory, or the default. Passwords are
    masked. Exit 0, or 2 when a value is invalid (one line naming the variable).

    [bold]Exempel / example:[/bold] opendata settings --json
    """
    from flows.core.settings import effective, unknown_variables

    given = {"raw_dir": raw, "out_dir": out, "reports_dir": reports, "state_dir": state}
    settings = load_settings(**given)
    rows = effective(settings, {k for k, v in given.items() if v is not None})
    unknown = unknown_variables()
    if as_json:
        sys.stdout.write(json.dumps({"settings": rows, "unknown": unknown}, ensure_ascii=False,
                                    indent=2) + "\n")
        return
    for row in rows:
        console.print(f"{row['variable']}={row['value']}  [dim]({_source(row['source'])})[/dim]",
                      highlight=False, soft_wrap=True)
    for name in unknown:
        errors.print(f"[yellow]{name}: ingen inställning, används inte / no such setting, not "
                     "used[/yellow]", highlight=False)


def _source(source: str) -> str:
    swedish = {"default": "standard", "command line": "kommandoraden",
               ".env": "filen .env"}.get(source)
    if swedish is None:
        swedish = source.replace("environment", "miljön")
    return f"{swedish} / {source}"


def validate_with_schema(paths: list[Path], schema: Path, lookups: list[str],
                         as_json: bool) -> None:
    from flows.checks.fastcheck import validate_csv

    if not schema.is_file():
        errors.print(f"[red]Schemat {schema} finns inte / schema not found.[/red]")
        raise typer.Exit(2)
    resources = {}
    for item in lookups:
        name, _, target = item.partition("=")
        if not name or not target:
            errors.print(f"[red]--lookup ska vara NAMN=CSV / must be NAME=CSV: {item}[/red]")
            raise typer.Exit(2)
        resources[name] = target
    reports = []
    for path in paths:
        if not path.is_file():
            errors.print(f"[red]Filen {path} finns inte / file not found.[/red]")
            raise typer.Exit(2)
        reports.append((path, validate_csv(path, schema, lookups=resources)))
    valid = all(report.valid for _, report in reports)
    if as_json:
        payload = {"valid": valid, "tasks": [{
            "name": path.stem, "path": str(path), "valid": report.valid,
            "stats": {"rows": report.rows, "errors": len(report.found),
                      "seconds": round(report.seconds, 3)},
            "handedOver": report.handed_over, "errors": report.errors} for path, report in reports]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        for path, report in reports:
            mark = "[green]✓[/green]" if report.valid else "[red]✗[/red]"
            console.print(f"{mark} {path}: {report.rows} rader / rows, {len(report.found)} fel / "
                          f"errors, {report.seconds:.2f} s", highlight=False)
            for note in report.handed_over:
                console.print(f"  [yellow]{note}[/yellow]", highlight=False)
            for error in report.iter_errors():
                where = f"rad / row {error['rowNumber']}" if error["rowNumber"] else "header"
                column = f", {error['fieldName']}" if error.get("fieldName") else ""
                console.print(f"  {where}{column} [dim]({error['type']})[/dim] "
                              f"{error['message']}", highlight=False)
    raise typer.Exit(0 if valid else 1)


def print_file_verdict(result) -> None:
    if not result.problems:
        console.print(f"[green]✓ {result.file}[/green]: {result.rows_read} rader giltiga / "
                      "rows valid")
        return
    console.print(f"[red]✗ {result.file}[/red]: {result.rows_read} rader lästa / read, "
                  f"{result.rows_published} giltiga / valid, {result.rows_rejected} avvisade / "
                  "rejected")
    for p in result.problems:
        where = "hela filen / whole file" if p.row is None else f"rad / row {p.row}"
        column = f", kolumn / column {p.field}" if p.field else ""
        value = f", värde / value '{p.value}'" if p.value is not None else ""
        console.print(f"  [bold]{where}{column}{value}[/bold] [dim]({p.type})[/dim]",
                      highlight=False)
        console.print(f"    {p.message_sv}", highlight=False)
        console.print(f"    [dim]{p.message_en}[/dim]", highlight=False)

