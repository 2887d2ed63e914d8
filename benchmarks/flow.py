"""The whole publish flow at national scale, side by side with the floor, in one run.

For each size (rows in the whole raw tree, see national.py), every round measures, each in a
fresh process, wall-clock time and peak memory (max RSS):

- floor: a bare pyarrow process reads every delivered CSV of the national tree and writes the
  rows of each report type as one CSV and one Parquet file;
- sample: `opendata run --full` on the shipped sample reports alone (default schemas): the
  flow's fixed cost, so that the marginal time of the national rows is full - sample;
- full: `opendata run --full` on the national tree, into fresh out/reports/state folders;
- nothing changed: the same command again, without --full;
- one changed: one row of raw/2020/social/aktiviteter.csv changed (a status), run again.

Every run talks to ONE Prefect server started here for the whole benchmark (PREFECT_API_URL),
so no run pays for starting a temporary server and no server is in a run's memory. Peak memory
is the run's own: os.wait4 on the process returns its rusage, whose ru_maxrss is the largest of
the process and the children it waited for. The figures are the best of --repeat rounds (the
machines are shared and noisy); each round is printed too. Each run's outcome is checked:
exit code 0 and, in reports/latest/summary.json, read = published + rejected for every file
and rows read = the rows generated.

    python benchmarks/flow.py --sizes 1000000 10000000 --repeat 3 --json benchmarks/data/flow.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from national import count_rows, deliveries, generator_version  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent if (Path(sys.executable).parent / "opendata").exists() \
    else ROOT / ".venv" / "bin"
CHANGED_FILE = Path("2020/social/aktiviteter.csv")
# settings that would point a run elsewhere: every path is given on the command line instead
PATH_SETTINGS = {"OPENDATA_RAW", "OPENDATA_SOURCE", "OPENDATA_OUT", "OPENDATA_REPORTS",
                 "OPENDATA_STATE", "OPENDATA_SCHEMAS", "PREFECT_API_URL", "PREFECT_HOME"}
STEPS = ("floor", "sample", "full", "nothing", "one")
LABELS = {"floor": "floor (pyarrow read + write)", "sample": "sample only (--full)",
          "full": "full (--full)", "marginal": "marginal (full - sample)",
          "nothing": "nothing changed", "one": "one small file changed"}
TARGETS = {"marginal_over_floor": 10.0, "peak_mb": 2048.0, "peak_growth": 1.5,
           "one_over_full": 0.10, "nothing_over_full": 0.05}

# The floor: read every delivered CSV with pyarrow (typed, multi-threaded) and write the rows of
# each report type as one CSV and one Parquet file (zstd, as the flow does).
FLOOR = """
import json, sys, time
from pathlib import Path
import pyarrow as pa, pyarrow.csv as pacsv, pyarrow.parquet as pq
raw, out, result = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
started = time.perf_counter()
groups = {}
for path in sorted(raw.glob("*/*/*.csv")):
    groups.setdefault(path.stem, []).append(pacsv.read_csv(path))
out.mkdir(parents=True, exist_ok=True)
rows = 0
for name, tables in groups.items():
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a column typed differently in two files
        table = pa.concat_tables([t.cast(pa.schema([(f.name, pa.string()) for f in t.schema]))
                                  for t in tables], promote_options="permissive")
    pacsv.write_csv(table, out / f"{name}.csv")
    pq.write_table(table, out / f"{name}.parquet", compression="zstd")
    rows += table.num_rows
result.write_text(json.dumps({"rows": rows, "files": sum(map(len, groups.values())),
                              "inner_seconds": time.perf_counter() - started}))
"""


def measure(command: list[str], env: dict, log: Path, timeout: float) -> dict:
    """Run one fresh process: wall-clock seconds, exit code and peak memory (MB) of the process
    and the children it waited for (os.wait4: ru_maxrss in KB on Linux)."""
    with log.open("w") as output:
        started = time.perf_counter()
        process = subprocess.Popen([str(part) for part in command], env=env, cwd=ROOT,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        watchdog = threading.Timer(timeout, stop_group, (process.pid, signal.SIGKILL))
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # interrupted: leave nothing behind
            stop_group(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            watchdog.cancel()
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": round(seconds, 3), "peak_mb": round(usage.ru_maxrss / 1024, 1),
            "exit_code": process.returncode, "timed_out": seconds >= timeout}


def stop_group(pid: int, sig: int) -> None:
    """Signal the process group that we started for `pid` (its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def prefect_server(home: Path, log: Path, timeout: float = 180):
    """One real Prefect server (SQLite under `home`, no telemetry) for the whole benchmark;
    stopped on the way out, whatever happens. Yields its API URL."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in PATH_SETTINGS}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false", DO_NOT_TRACK="1")
    output = log.open("w")
    process = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=output,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + timeout
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Prefect server did not start; see {log}:\n"
                                   + log.read_text()[-2000:])
            time.sleep(0.5)
        yield url
    finally:
        stop_group(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            stop_group(process.pid, signal.SIGKILL)
            process.wait()
        output.close()


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def flow_runs(url: str) -> int | None:
    """How many flow runs the shared server recorded (a check that the runs used it)."""
    request = urllib.request.Request(f"{url}/flow_runs/count", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(json.loads(response.read()))
    except (OSError, ValueError):
        return None


def check_run(result: dict, folder: Path, expected: dict[str, int]) -> dict:
    """Exit code 0, and reports/latest/summary.json adds up: read = published + rejected for
    every file, and every file read as many rows as were generated. Read defensively."""
    problems = [] if result["exit_code"] == 0 else [f"exit code {result['exit_code']}"]
    totals = {"rows_read": 0, "rows_published": 0, "rows_rejected": 0}
    try:
        summary = json.loads((folder / "reports" / "latest" / "summary.json").read_text())
        files = summary.get("files") or []
        if not isinstance(files, list):
            raise ValueError("'files' is not a list")
    except (OSError, ValueError, AttributeError) as error:
        return {**totals, "ok": False, "problems": problems + [f"no usable summary.json: {error}"]}
    read_per_file, errors = {}, {}
    for entry in files:
        if not isinstance(entry, dict):
            continue
        for problem in entry.get("problems") or []:
            if isinstance(problem, dict) and problem.get("severity", "error") == "error":
                errors[str(problem.get("type"))] = errors.get(str(problem.get("type")), 0) + 1
        counts = {name: int(entry.get(name) or 0) for name in totals}
        for name, count in counts.items():
            totals[name] += count
        read_per_file[str(entry.get("path"))] = counts["rows_read"]
        if counts["rows_read"] != counts["rows_published"] + counts["rows_rejected"]:
            problems.append(f"{entry.get('path')}: read {counts['rows_read']} != published "
                            f"{counts['rows_published']} + rejected {counts['rows_rejected']}")
    for path, rows in expected.items():
        if read_per_file.get(path) != rows:
            problems.append(f"{path}: {rows} rows generated, {read_per_file.get(path)} read")
    if totals["rows_published"] + totals["rows_rejected"] != sum(expected.values()):
        problems.append(f"published + rejected = "
                        f"{totals['rows_published'] + totals['rows_rejected']:,}, "
                        f"generated {sum(expected.values()):,}")
    latest = folder / "published" / "latest"
    release = Path(os.path.realpath(latest)).name if latest.exists() else None
    return {**totals, "rows_expected": sum(expected.values()), "release": release,
            "errors_by_type": dict(sorted(errors.items())), "ok": not problems,
            "problems": problems[:20]}


def suppressed(folder: Path) -> int | None:
    """Key-figure values withheld as small counts (status undertryckt) in the latest release."""
    path = folder / "published" / "latest" / "nyckeltal" / "nyckeltal.csv"
    try:
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv

        status = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            include_columns=["status"], column_types={"status": "string"}))["status"]
        return int(pc.sum(pc.equal(status, "undertryckt")).as_py() or 0)
    except (OSError, KeyError, ValueError, ImportError):
        return None


def tree_for(rows: int, args: argparse.Namespace) -> tuple[Path, dict]:
    """The national tree for `rows`, generated once (a fresh process) and reused after."""
    target = args.data / f"national-{rows}-e{args.errors}-s{args.seed}"
    manifest = target / "manifest.json"
    wanted = {"rows": rows, "errors": args.errors, "seed": args.seed}
    found = json.loads(manifest.read_text()) if manifest.exists() else {}
    if found.get("parameters") != wanted or found.get("generator_sha256") != generator_version():
        subprocess.run([sys.executable, str(HERE / "national.py"), "--rows", str(rows),
                        "--errors", str(args.errors), "--seed", str(args.seed), "--out",
                        str(target)], check=True)
    return target, json.loads(manifest.read_text())


def change_one_row(path: Path) -> None:
    """Change the status of one activity (a valid value stays valid): one row differs."""
    text = path.read_text(encoding="utf-8")
    for old, new in ((",pågående,", ",genomförd,"), (",genomförd,", ",pågående,")):
        if old in text:
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
            return
    raise RuntimeError(f"{path}: no status to change")


def one_round(size: dict, env: dict, args: argparse.Namespace, work: Path) -> dict:
    """floor, sample, full, nothing changed, one changed: each a fresh process."""
    tree, sample = size["tree"], size["sample"]
    results = {}
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    results["floor"] = measure([sys.executable, "-c", FLOOR, tree / "raw", work / "floor",
                                work / "floor.json"], env["floor"], work / "floor.log", args.timeout)
    if (work / "floor.json").exists():
        results["floor"].update(json.loads((work / "floor.json").read_text()))
    shutil.rmtree(work / "floor", ignore_errors=True)
    results["floor"]["check"] = {"ok": results["floor"]["exit_code"] == 0,
                                 "problems": [] if results["floor"]["exit_code"] == 0 else
                                 [f"exit code {results['floor']['exit_code']}"]}

    def opendata(step: str, raw: Path, folder: Path, expected: dict, full: bool) -> None:
        command = [BIN / "opendata", "run", "--raw", raw, "--out", folder / "published",
                   "--reports", folder / "reports", "--state", folder / "state"]
        results[step] = measure(command + (["--full"] if full else []),
                                env["sample" if step == "sample" else "national"],
                                work / f"{step}.log", args.timeout)
        results[step]["check"] = check_run(results[step], folder, expected)

    opendata("sample", sample["raw"], work / "sample", sample["expected"], full=True)
    national = tree / "raw"
    expected = size["manifest"]["files"]
    opendata("full", national, work / "national", expected, full=True)
    results["full"]["check"]["suppressed"] = suppressed(work / "national")  # after the timing
    opendata("nothing", national, work / "national", expected, full=False)
    changed = national / CHANGED_FILE
    original = changed.read_bytes()
    try:
        change_one_row(changed)
        opendata("one", national, work / "national", expected, full=False)
    finally:
        changed.write_bytes(original)
    return results


def best_of(rounds: list[dict]) -> dict:
    """The fastest run of each step over the rounds (its peak memory with it) and the
    largest peak memory of each step."""
    best = {}
    for step in STEPS:
        runs = [found[step] for found in rounds]
        fastest = min(runs, key=lambda run: run["seconds"])
        best[step] = {"seconds": fastest["seconds"], "peak_mb": fastest["peak_mb"],
                      "max_peak_mb": max(run["peak_mb"] for run in runs)}
    best["marginal"] = {"seconds": round(best["full"]["seconds"] - best["sample"]["seconds"], 3)}
    return best


def ratios_of(best: dict) -> dict:
    full = best["full"]["seconds"]
    return {"marginal_over_floor": best["marginal"]["seconds"] / best["floor"]["seconds"],
            "peak_mb": max(best[step]["max_peak_mb"] for step in ("full", "nothing", "one")),
            "one_over_full": best["one"]["seconds"] / full,
            "nothing_over_full": best["nothing"]["seconds"] / full}


def print_round(number: int, repeat: int, found: dict) -> None:
    parts = [f"{step} {found[step]['seconds']:.2f} s {found[step]['peak_mb']:.0f} MB"
             + ("" if found[step]["check"]["ok"] else " (CHECK FAILED)") for step in STEPS]
    print(f"  round {number}/{repeat}: " + " | ".join(parts), flush=True)


def print_size(figure: dict) -> None:
    manifest, best = figure["tree"], figure["best"]
    print(f"\n{figure['rows']:,} rows requested: tree of {manifest['rows']:,} rows "
          f"({manifest['national_rows']:,} national, {manifest['key_figures']:,} key figures; "
          f"{manifest['sample_rows']:,} sample), {manifest['bytes'] / 1e6:,.1f} MB, "
          f"{sum(manifest['errors_injected'].values()):,} rows with errors injected")
    print(f"{'':<30}{'seconds':>10}{'peak MB':>10}  rounds (s)")
    for step in ("floor", "sample", "full", "marginal", "nothing", "one"):
        seconds = [f"{found[step]['seconds']:.2f}" if step != "marginal" else
                   f"{found['full']['seconds'] - found['sample']['seconds']:.2f}"
                   for found in figure["rounds"]]
        peak = f"{best[step]['peak_mb']:>10.0f}" if "peak_mb" in best[step] else f"{'':>10}"
        print(f"{LABELS[step]:<30}{best[step]['seconds']:>10.2f}{peak}  {', '.join(seconds)}")
    for step in STEPS:
        last = figure["rounds"][-1][step]
        check = last["check"]
        if step == "floor":
            detail = f"{last.get('rows', '?'):,} rows from {last.get('files', '?')} CSV files" \
                if isinstance(last.get("rows"), int) else ""
        else:
            detail = (f"read {check['rows_read']:,} = published {check['rows_published']:,} + "
                      f"rejected {check['rows_rejected']:,}; generated "
                      f"{check.get('rows_expected', 0):,}; release {check.get('release')}")
        failed = sum(not found[step]["check"]["ok"] for found in figure["rounds"])
        verdict = "ok" if not failed else f"FAILED in {failed} round(s): " + "; ".join(
            next(found[step]["check"]["problems"] for found in figure["rounds"]
                 if not found[step]["check"]["ok"]))
        print(f"  check {step:<8} exit {last['exit_code']}, {detail} - {verdict}")
    full = figure["rounds"][-1]["full"]["check"]
    print(f"  rows with errors injected: {sum(manifest['errors_injected'].values()):,} "
          f"{manifest['errors_injected']}\n  full run: {full['rows_rejected']:,} rows rejected, "
          f"errors by type {full.get('errors_by_type')}; {full.get('suppressed')} values "
          f"suppressed as small counts ({manifest['key_figures_counting_persons']} key "
          "figures count persons)")


def print_targets(figures: list[dict]) -> list[dict]:
    """The project's targets, at the largest size (they are set for 10M rows)."""
    large, small = figures[-1], figures[0]
    ratios = large["ratios"]
    rows = [("marginal / floor time", ratios["marginal_over_floor"], TARGETS["marginal_over_floor"],
             "{:.1f}x"),
            ("peak memory of the flow (MB)", ratios["peak_mb"], TARGETS["peak_mb"], "{:.0f}"),
            ("one changed / full time", ratios["one_over_full"], TARGETS["one_over_full"], "{:.1%}"),
            ("nothing changed / full time", ratios["nothing_over_full"],
             TARGETS["nothing_over_full"], "{:.1%}")]
    if len(figures) > 1:
        growth = ratios["peak_mb"] / small["ratios"]["peak_mb"]
        rows.insert(2, (f"peak({large['rows']:,}) / peak({small['rows']:,})", growth,
                        TARGETS["peak_growth"], "{:.2f}x"))
    note = "" if large["rows"] == 10_000_000 else " - the targets are set for 10,000,000 rows"
    print(f"\ntargets at {large['rows']:,} rows{note}:")
    verdicts = []
    for name, value, target, form in rows:
        met = value <= target
        if name.startswith("marginal") and value <= 0:  # full no slower than sample: noise
            verdicts.append({"name": name, "rows": large["rows"], "value": round(value, 4),
                             "target": target, "met": None})
            print(f"  {name:<42}{form.format(value):>10}  target <= {form.format(target):<8}"
                  "not measurable (full no slower than sample: noise; try more --repeat)")
            continue
        verdicts.append({"name": name, "rows": large["rows"], "value": round(value, 4),
                         "target": target, "met": met})
        print(f"  {name:<42}{form.format(value):>10}  target <= {form.format(target):<8}"
              f"{'met' if met else 'NOT met'}")
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best of each step")
    parser.add_argument("--errors", type=float, default=0.001, help="share of rows with errors")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="seconds per run")
    parser.add_argument("--data", type=Path, default=HERE / "data" / "flow")
    parser.add_argument("--keep", action="store_true", help="keep the last round's outputs")
    parser.add_argument("--json", type=Path, help="also write all figures here")
    args = parser.parse_args()
    args.data = args.data.resolve()
    args.data.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below
    sample_raw = args.data / "sample" / "raw"
    if sample_raw.exists():
        shutil.rmtree(sample_raw)
    shutil.copytree(ROOT / "raw", sample_raw)
    sample = {"raw": sample_raw, "expected": {str(path.relative_to(sample_raw)): count_rows(path)
                                              for path in deliveries(sample_raw)}}
    trees = {rows: tree_for(rows, args) for rows in args.sizes}
    home = Path(tempfile.mkdtemp(prefix="prefect-", dir=args.data))
    figures = []
    try:
        with prefect_server(home, args.data / "prefect-server.log") as url:
            base = {name: value for name, value in os.environ.items() if name not in PATH_SETTINGS}
            base.update(PREFECT_API_URL=url, PREFECT_HOME=str(home), DO_NOT_TRACK="1",
                        PREFECT_SERVER_ANALYTICS_ENABLED="false")
            env = {"floor": base, "sample": base}
            print(f"Prefect server: {url} (PREFECT_HOME {home})", flush=True)
            # warm-up, not timed: the server's first flow run pays one-off costs (registering
            # the flow, first queries) that would otherwise fall on the first measured run
            warm = args.data / "runs" / "warm-up"
            shutil.rmtree(warm, ignore_errors=True)
            warm.mkdir(parents=True)
            warmed = measure([BIN / "opendata", "run", "--raw", sample_raw, "--out", warm / "published",
                              "--reports", warm / "reports", "--state", warm / "state"], base,
                             args.data / "warm-up.log", args.timeout)
            print(f"warm-up run on the sample (not counted): {warmed['seconds']:.2f} s, "
                  f"exit {warmed['exit_code']}", flush=True)
            shutil.rmtree(warm, ignore_errors=True)
            for rows in args.sizes:
                tree, manifest = trees[rows]
                env["national"] = {**base, "OPENDATA_SCHEMAS": str(tree / "schemas")}
                size = {"tree": tree, "manifest": manifest, "sample": sample}
                print(f"\n{rows:,} rows: {tree}", flush=True)
                rounds = []
                for number in range(1, args.repeat + 1):
                    rounds.append(one_round(size, env, args, args.data / "runs" / str(rows)))
                    print_round(number, args.repeat, rounds[-1])
                best = best_of(rounds)
                figures.append({"rows": rows, "tree": {k: v for k, v in manifest.items()
                                                       if k != "files"},
                                "rounds": rounds, "best": best, "ratios": ratios_of(best)})
                print_size(figures[-1])
                runs = args.data / "runs" / str(rows)
                if any(not found[step]["check"]["ok"] for found in rounds for step in STEPS):
                    print(f"  a check failed: the last round's outputs and logs are kept in {runs}")
                elif not args.keep:
                    shutil.rmtree(runs, ignore_errors=True)
                    with contextlib.suppress(OSError):
                        (args.data / "runs").rmdir()  # when empty
            recorded = flow_runs(url)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"\nflow runs recorded by the shared Prefect server: {recorded} "
          f"(expected {4 * args.repeat * len(args.sizes) + 1}, with the warm-up)")
    verdicts = print_targets(figures)
    failed = [f"{figure['rows']:,} rows: {step}" for figure in figures for found in figure["rounds"]
              for step in STEPS if not found[step]["check"]["ok"]]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"sizes": figures, "targets": verdicts,
                                         "flow_runs_recorded": recorded, "cpus": os.cpu_count(),
                                         "checks_failed": failed}, indent=2, default=str))
    if failed:
        print(f"\nchecks FAILED: {', '.join(failed)}")
        return 1
    print("\nevery run exited 0 and its rows add up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
