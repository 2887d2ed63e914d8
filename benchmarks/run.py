"""Side-by-side on the same files: `frictionless` (full validation, no error limit), our fast
validator, and a bare `pyarrow.csv.read_csv` (the floor). Each run is a fresh process; the
figures are the best of --repeat runs (the machines are shared and noisy), reported as rows/s,
ratios and peak memory (max RSS of the process). Times start after the imports.

    python benchmarks/run.py --sizes 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA = HERE / "kolada.schema.yaml"

TOOLS = {
    "pyarrow": """
import pyarrow.csv as pacsv
started = time.perf_counter()
table = pacsv.read_csv(PATH)
result = {"rows": table.num_rows}
""",
    "opendata": """
from flows.fastcheck import validate_csv
started = time.perf_counter()
report = validate_csv(PATH, SCHEMA)
result = {"rows": report.rows, "errors": len(report.found), "handed_over": report.handed_over,
          "verdict": report.flatten(["rowNumber", "fieldName", "type"])}
""",
    "frictionless": """
from pathlib import Path
import yaml
from frictionless import Dialect, Resource, Schema
started = time.perf_counter()
path = Path(PATH)
schema = Schema.from_descriptor(yaml.safe_load(Path(SCHEMA).read_text()))
resource = Resource(path=path.name, basepath=str(path.parent), schema=schema,
                    dialect=Dialect(header_rows=[1]))
report = resource.validate(limit_errors=10**12)
task = report.tasks[0]
result = {"rows": task.stats.get("rows"), "errors": len(task.errors),
          "verdict": report.flatten(["rowNumber", "fieldName", "type"])}
""",
}

WRAPPER = """
import json, sys, time
import resource as rusage
PATH, SCHEMA, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
{code}
result["seconds"] = time.perf_counter() - started
result["peak_mb"] = rusage.getrusage(rusage.RUSAGE_SELF).ru_maxrss / 1024
open(OUT, "w").write(json.dumps(result))
"""


def measure(tool: str, path: Path, repeat: int, scratch: Path) -> dict:
    best = None
    for _ in range(repeat):
        out = scratch / f"{tool}.json"
        subprocess.run([sys.executable, "-c", WRAPPER.format(code=TOOLS[tool]), str(path),
                        str(SCHEMA), str(out)], check=True, cwd=HERE.parent)
        result = json.loads(out.read_text())
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--errors", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--frictionless-repeat", type=int, default=1)
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
        found = {tool: measure(tool, path, args.repeat, args.data) for tool in ("pyarrow",
                                                                             "opendata")}
        if not args.skip_frictionless_above or rows <= args.skip_frictionless_above:
            found["frictionless"] = measure("frictionless", path, args.frictionless_repeat,
                                            args.data)
        same = None
        if "frictionless" in found:
            same = found["frictionless"].pop("verdict") == found["opendata"]["verdict"]
        found["opendata"].pop("verdict")
        figures.append({"rows": rows, "mb": round(path.stat().st_size / 1e6), "tools": found,
                        "identical_errors": same})
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
    print(f"{'tool':<14}{'seconds':>9}{'rows/s':>14}{'peak MB':>9}  ratio")
    for name, result in tools.items():
        rate = figure["rows"] / result["seconds"]
        ratios = []
        if "frictionless" in tools and name != "frictionless":
            ratios.append(f"{tools['frictionless']['seconds'] / result['seconds']:.1f}x "
                          "frictionless's throughput")
        if name == "opendata":
            ratios.append(f"{result['seconds'] / tools['pyarrow']['seconds']:.2f}x the pyarrow "
                          "read time")
        print(f"{name:<14}{result['seconds']:>9.2f}{rate:>14,.0f}{result['peak_mb']:>9.0f}  "
              + "; ".join(ratios))
    if figure["identical_errors"] is not None:
        print(f"identical error lists (row, field, type): {figure['identical_errors']}")


if __name__ == "__main__":
    main()
