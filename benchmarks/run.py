"""Side-by-side on the same files: `frictionless` (full validation, no error limit), our fast
validator, and a bare `pyarrow.csv.read_csv` (the floor). Each run is a fresh process; the
figures are the best of --repeat runs (the machines are shared and noisy), reported as rows/s,
ratios and peak memory (max RSS of the process). Times start after the imports and after a
warm-up run on a 1,000-row sample of the same file (reported as start-up).

    python benchmarks/run.py --sizes 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA = HERE / "kolada.schema.yaml"

TOOLS = {
    "pyarrow": """
import pyarrow.csv as pacsv

def run(path):
    table = pacsv.read_csv(path)
    return {"rows": table.num_rows}
""",
    "opendata": """
from flows.checks.fastcheck import validate_csv

def run(path):
    report = validate_csv(path, SCHEMA)
    return {"rows": report.rows, "errors": len(report.found), "handed_over": report.handed_over,
            "verdict": report.flatten(["rowNumber", "fieldName", "type"])}
""",
    "frictionless": """
from pathlib import Path
import yaml
from frictionless import Dialect, Resource, Schema

def run(path):
    path = Path(path)
    schema = Schema.from_descriptor(yaml.safe_load(Path(SCHEMA).read_text()))
    resource = Resource(path=path.name, basepath=str(path.parent), schema=schema,
                        dialect=Dialect(header_rows=[1]))
    report = resource.validate(limit_errors=10**12)
    task = report.tasks[0]
    return {"rows": task.stats.get("rows"), "errors": len(task.errors),
            "verdict": report.flatten(["rowNumber", "fieldName", "type"])}
""",
}

# Each tool first runs once on a 1,000-row sample of the file (its first call pays for lazy
# imports, thread pools and caches: a fixed start-up cost, reported on its own), then on the
# file itself, timed.
WRAPPER = """
import json, sys, time
import resource as rusage
PATH, SAMPLE, SCHEMA, OUT = sys.argv[1:5]
{code}
started = time.perf_counter()
run(SAMPLE)
startup = time.perf_counter() - started
started = time.perf_counter()
result = run(PATH)
result["seconds"] = time.perf_counter() - started
result["startup_seconds"] = startup
result["peak_mb"] = rusage.getrusage(rusage.RUSAGE_SELF).ru_maxrss / 1024
open(OUT, "w").write(json.dumps(result))
"""


# Both in one process, already warm (memory pools grown, caches filled), alternating: the
# ratio a long-running service would see.
WARM = """
import json, sys, time
import pyarrow.csv as pacsv
from flows.checks.fastcheck import validate_csv
PATH, SAMPLE, SCHEMA, OUT, ROUNDS = sys.argv[1:6]
for path in (SAMPLE, PATH):
    pacsv.read_csv(path)
    validate_csv(path, SCHEMA)
ratios = []
for _ in range(int(ROUNDS)):
    started = time.perf_counter()
    pacsv.read_csv(PATH)
    read = time.perf_counter() - started
    started = time.perf_counter()
    validate_csv(PATH, SCHEMA)
    ratios.append((time.perf_counter() - started) / read)
open(OUT, "w").write(json.dumps(ratios))
"""


def warm_ratios(path: Path, rounds: int, scratch: Path) -> list[float]:
    out = scratch / "warm.json"
    subprocess.run([sys.executable, "-c", WARM, str(path), str(sample_of(path)), str(SCHEMA),
                    str(out), str(rounds)], check=True, cwd=HERE.parent)
    return json.loads(out.read_text())


def sample_of(path: Path, rows: int = 1000) -> Path:
    """The file's header and first `rows` rows, beside it."""
    sample = path.with_name(f"{path.stem}.sample.csv")
    if not sample.exists() or sample.stat().st_mtime < path.stat().st_mtime:
        with path.open(encoding="utf-8") as source:
            sample.write_text("".join(line for _, line in zip(range(rows + 1), source, strict=False)),
                              encoding="utf-8")
    return sample


def measure(tool: str, path: Path, scratch: Path) -> dict:
    """One fresh process running the tool on the file."""
    out = scratch / f"{tool}.json"
    subprocess.run([sys.executable, "-c", WRAPPER.format(code=TOOLS[tool]), str(path),
                    str(sample_of(path)), str(SCHEMA), str(out)], check=True, cwd=HERE.parent)
    return json.loads(out.read_text())


def rounds(tools: list[str], path: Path, repeat: int, scratch: Path) -> tuple[dict, list]:
    """`repeat` rounds of every tool back to back: the best run of each, and each round's
    time ratio of our validator to the read (pairs run seconds apart share the machine's
    load of the moment)."""
    best: dict[str, dict] = {}
    paired = []
    for _ in range(repeat):
        this = {tool: measure(tool, path, scratch) for tool in tools}
        for tool, result in this.items():
            if tool not in best or result["seconds"] < best[tool]["seconds"]:
                best[tool] = result
        if {"opendata", "pyarrow"} <= set(this):
            paired.append(this["opendata"]["seconds"] / this["pyarrow"]["seconds"])
    return best, paired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--errors", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--frictionless-repeat", type=int, default=1)
    parser.add_argument("--warm-rounds", type=int, default=5,
                        help="rounds of read and validation alternating in one warm process "
                             "(0: none)")
    parser.add_argument("--skip-frictionless-above", type=int, default=0,
                        help="skip frictionless for sizes above this many rows (0: never skip)")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    figures = []
    for rows in args.sizes:
        path = args.data / f"national-{rows}-{args.errors}.csv"
        if not path.exists():
            subprocess.run([sys.executable, str(HERE / "generate.py"), "--rows", str(rows),
                            "--errors", str(args.errors), "--out", str(path)], check=True)
        found, paired = rounds(["pyarrow", "opendata"], path, args.repeat, args.data)
        warm = warm_ratios(path, args.warm_rounds, args.data) if args.warm_rounds else []
        if not args.skip_frictionless_above or rows <= args.skip_frictionless_above:
            found.update(rounds(["frictionless"], path, args.frictionless_repeat, args.data)[0])
        same = None
        if "frictionless" in found:
            same = found["frictionless"].pop("verdict") == found["opendata"]["verdict"]
        found["opendata"].pop("verdict")
        figures.append({"rows": rows, "mb": round(path.stat().st_size / 1e6), "tools": found,
                        "identical_errors": same,
                        "paired_ratios": [round(r, 2) for r in sorted(paired)],
                        "warm_ratios": [round(r, 2) for r in sorted(warm)]})
        report(figures[-1])
    if len(figures) > 1:
        small, large = figures[0], figures[-1]
        for tool in small["tools"]:
            if tool in large["tools"]:
                ratio = large["tools"][tool]["peak_mb"] / small["tools"][tool]["peak_mb"]
                print(f"peak memory {tool}: {large['rows']:,} rows / {small['rows']:,} rows = "
                      f"{ratio:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def report(figure: dict) -> None:
    tools = figure["tools"]
    print(f"\n{figure['rows']:,} rows x 8 columns ({figure['mb']} MB), errors: "
          f"{tools['opendata']['errors']:,}")
    print(f"{'tool':<14}{'seconds':>9}{'rows/s':>14}{'peak MB':>9}{'start-up s':>12}  ratio")
    for name, result in tools.items():
        rate = figure["rows"] / result["seconds"]
        ratios = []
        if "frictionless" in tools and name != "frictionless":
            ratios.append(f"{tools['frictionless']['seconds'] / result['seconds']:.1f}x "
                          "frictionless's throughput")
        if name == "opendata":
            ratios.append(f"{result['seconds'] / tools['pyarrow']['seconds']:.2f}x the pyarrow "
                          "read time")
        print(f"{name:<14}{result['seconds']:>9.2f}{rate:>14,.0f}{result['peak_mb']:>9.0f}"
              f"{result['startup_seconds']:>12.2f}  " + "; ".join(ratios))
    if figure["paired_ratios"]:
        ratios = figure["paired_ratios"]
        print(f"opendata / pyarrow time, round by round: {', '.join(map(str, ratios))} "
              f"(median {statistics.median(ratios):.2f}x)")
    if figure["warm_ratios"]:
        ratios = figure["warm_ratios"]
        print(f"the same in one warm process: {', '.join(map(str, ratios))} "
              f"(median {statistics.median(ratios):.2f}x)")
    if figure["identical_errors"] is not None:
        print(f"identical error lists (row, field, type): {figure['identical_errors']}")


if __name__ == "__main__":
    main()
