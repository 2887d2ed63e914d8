"""Seeded generator of national-scale key-figure data: every municipality (290) x key figures x
years x gender (T/K/M), Kolada's long form, 8 columns, with errors injected in a given share of
rows. The data are synthetic (random values, synthetic municipality codes), for benchmarks only.

    python benchmarks/generate.py --rows 5000000 --errors 0.01 --out benchmarks/data/x.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

MUNICIPALITIES = 290
YEARS = np.arange(2010, 2022)
GENDERS = np.array(["T", "K", "M"])
BAD = ["varde", "uppdaterad", "kon", "kommun_id", "ar", "duplicate", "antal", "blank-id"]


def generate(start: int, rows: int, errors: float, seed: int = 20261129) -> pa.Table:
    """Rows start .. start+rows of the national grid (chunks continue each other)."""
    municipalities = np.sort(np.random.default_rng(seed).choice(
        np.arange(114, 2600), MUNICIPALITIES, replace=False))
    rng = np.random.default_rng([seed, start])
    index = np.arange(start, start + rows, dtype=np.int64)
    gender = index % 3
    year = (index // 3) % len(YEARS)
    municipality = (index // (3 * len(YEARS))) % MUNICIPALITIES
    kpi = index // (3 * len(YEARS) * MUNICIPALITIES)
    columns = {
        "nyckeltal_id": np.char.add("N", np.char.zfill((kpi % 99999 + 1).astype(str), 5)),
        "kommun_id": np.char.zfill(municipalities[municipality].astype(str), 4),
        "ar": YEARS[year].astype(str),
        "kon": GENDERS[gender],
        "varde": np.round(rng.gamma(2.0, 50.0, rows), 1).astype(str),
        "antal": rng.integers(0, 50000, rows).astype(str),
        "status": rng.choice(np.array(["slutlig", "slutlig", "prel", ""]), rows),
        "uppdaterad": (np.datetime64("2011-01-01") + rng.integers(0, 4000, rows)).astype(str),
    }
    columns = {name: values.astype(object) for name, values in columns.items()}
    bad = np.flatnonzero(rng.random(rows) < errors)
    kinds = rng.choice(np.array(BAD), len(bad))
    for row, kind in zip(bad, kinds, strict=True):
        if kind == "varde":
            columns["varde"][row] = "12.5x"
        elif kind == "uppdaterad":
            columns["uppdaterad"][row] = "2020-13-01"
        elif kind == "kon":
            columns["kon"][row] = "X"
        elif kind == "kommun_id":
            columns["kommun_id"][row] = "604"
        elif kind == "ar":
            columns["ar"][row] = "1800"
        elif kind == "duplicate" and row > 0:  # the key of the row before
            for key in ("nyckeltal_id", "kommun_id", "ar", "kon"):
                columns[key][row] = columns[key][row - 1]
        elif kind == "antal":
            columns["antal"][row] = "-5"
        elif kind == "blank-id":
            columns["nyckeltal_id"][row] = ""
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--errors", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    chunk = 1_000_000
    with pacsv.CSVWriter(args.out, generate(0, 1, 0).schema,
                         write_options=pacsv.WriteOptions(quoting_style="none")) as writer:
        for start in range(0, args.rows, chunk):
            writer.write_table(generate(start, min(chunk, args.rows - start), args.errors,
                                        args.seed))
    print(f"{args.rows} rows -> {args.out} ({args.out.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
