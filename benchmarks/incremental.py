"""Incremental runs: how much of a full run does a run with nothing changed, and one with one
changed department file, redo? Runs the real flow (one temporary Prefect server for all runs)
on the shipped raw/ with national-scale key-figure files (290 municipalities x the programme's
key figures x 3 genders per year) and prints the times and the ratios, and compares a full
run on threads with one on a local Dask cluster.

    python benchmarks/incremental.py
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def national_raw(target: Path) -> Path:
    import numpy as np

    shutil.copytree(ROOT / "raw", target)
    kpis = [row[0] for row in csv.reader((ROOT / "schemas" / "codelists" /
                                          "nyckeltal_definitioner.csv").open())][1:]
    rng = np.random.default_rng(2026)
    municipalities = sorted({f"{c:04d}" for c in rng.choice(np.arange(114, 2600), 290,
                                                            replace=False)} | {"0604"})
    for year in (2019, 2020, 2021):
        path = target / str(year) / "kommunledning" / "nyckeltal.csv"
        for other in path.parent.glob("nyckeltal.*"):
            other.unlink()
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["nyckeltal_id", "kommun_id", "ar", "kon", "varde"])
            for kpi in kpis:
                for municipality in municipalities:
                    for gender in "TKM":
                        writer.writerow([kpi, municipality, year, gender,
                                         round(float(rng.gamma(2, 20)), 1)])
    for department in ("social", "samhallsbyggnad"):  # each key figure from one department
        for year in (2019, 2020, 2021):
            for file in (target / str(year) / department).glob("nyckeltal.*"):
                file.unlink()
    return target


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="opendata-incremental-"))
    os.environ["PREFECT_HOME"] = str(work / "prefect")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.testing.utilities import prefect_test_harness

    from flows.pipeline import publish_open_data

    raw = national_raw(work / "raw")
    rows = sum(1 for p in raw.rglob("*.csv") for _ in p.open())
    with prefect_test_harness(server_startup_timeout=120):
        def run(**options) -> float:
            started = time.perf_counter()
            state = publish_open_data(raw_dir=raw, out_dir=work / "published",
                                      reports_dir=work / "reports", state_dir=work / "state",
                                      return_state=True, **options)
            assert state.is_completed(), state.message
            return time.perf_counter() - started

        run()  # warm up imports and the server
        full = min(run(full=True) for _ in range(2))
        unchanged = min(run() for _ in range(3))
        target = raw / "2021" / "social" / "personal.csv"
        text = target.read_text(encoding="utf-8")
        times = []
        for value in ("8.1", "8.2", "8.3"):
            target.write_text(text.replace(",8.4,", f",{value},"), encoding="utf-8")
            times.append(run())
        one = min(times)
        from prefect_dask import DaskTaskRunner

        dask_flow = publish_open_data.with_options(task_runner=DaskTaskRunner(
            cluster_kwargs={"n_workers": 2, "threads_per_worker": 1}))

        def run_dask() -> float:
            started = time.perf_counter()
            state = dask_flow(raw_dir=raw, out_dir=work / "published", full=True,
                              reports_dir=work / "reports", state_dir=work / "state",
                              return_state=True)
            assert state.is_completed(), state.message
            return time.perf_counter() - started
        dask = min(run_dask() for _ in range(2))
    print(f"raw: {len(list(raw.rglob('*.*')))} files, ~{rows:,} lines")
    print(f"full run (--full):        {full:6.2f} s")
    print(f"nothing changed:          {unchanged:6.2f} s  = {unchanged / full:.1%} of a full run")
    print(f"one file changed:         {one:6.2f} s  = {one / full:.1%} of a full run")
    print(f"full run on Dask (2 workers, LocalCluster): {dask:6.2f} s = {dask / full:.2f}x "
          "the threads' time")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
