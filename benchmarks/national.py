"""Seeded generator of a national-scale raw tree for benchmarking the whole publish flow.

Copies the shipped sample reports (raw/) into TARGET/raw and adds `nyckeltal` deliveries for
290 municipalities x N key figures x the programme years 2019-2022 x gender (T, K, M): one CSV
per year, TARGET/raw/<year>/kommunledning/nyckeltal.csv. The sample's own `nyckeltal.*` files
are removed from every department, so that each key figure comes from one place. N follows
from --rows: the whole tree (sample reports + national deliveries) has about --rows rows.

The key figures must exist in the codelist `nyckeltal_definitioner`, so TARGET/schemas is a
copy of schemas/ whose codelist holds the sample's key figures plus the N synthetic ones.
Point the flow at it: OPENDATA_SCHEMAS=TARGET/schemas opendata run --raw TARGET/raw ...

**The data are synthetic**: random values, synthetic 4-digit municipality codes (among them
0604 Aneby and 0000 the country) and synthetic key figures (ids N1xxxx). They are neither
Kolada's nor any municipality's statistics, and serve for benchmarks only.

A seeded share of the rows (--errors, default 0.1 %) carries the errors real deliveries have,
each of which rejects its row: a bad number, an unknown gender, a malformed municipality
code, a duplicate key (the key of the row before) and an unknown key figure. Rows are written
in an export order (key figure, municipality, then gender T, K, M), not sorted by the primary
key. TARGET/manifest.json holds the rows per file, the errors injected and the parameters.

    python benchmarks/national.py --rows 1000000 --out benchmarks/data/flow/national-1000000
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
YEARS = (2019, 2020, 2021, 2022)
GENDERS = np.array(["T", "K", "M"])
MUNICIPALITIES = 290
COLUMNS = ["nyckeltal_id", "kommun_id", "ar", "kon", "varde"]
ERROR_KINDS = ("bad-number", "unknown-gender", "malformed-code", "duplicate-key",
               "unknown-key-figure")
FIRST_ID = 10001  # synthetic ids N10001, N10002, ...: clear of the sample's (N0xxxx)
PERSONS_EVERY = 40  # every 40th synthetic key figure counts persons (small-count suppression)
ROWS_PER_CHUNK = 250_000


def count_rows(path: Path) -> int:
    """Data rows of one delivered report as the department sees them: CSV records after the
    header, non-empty spreadsheet rows after the header, JSON objects (Kolada's forms: values,
    and a municipality group's members)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return max(0, sum(1 for _ in csv.reader(handle)) - 1)
    if path.suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book[path.stem] if path.stem in book.sheetnames else book.worksheets[0]
            filled = [row for row in sheet.iter_rows(values_only=True)
                      if any(cell not in (None, "") for cell in row)]
        finally:
            book.close()
        return max(0, len(filled) - 1)
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data["values"] if isinstance(data, dict) else data
        if rows and isinstance(rows[0], dict) and isinstance(rows[0].get("values"), list):
            return sum(len(entry["values"]) for entry in rows)  # Kolada's API response
        if rows and isinstance(rows[0], dict) and isinstance(rows[0].get("members"), list):
            return sum(len(entry["members"]) for entry in rows)  # a group per member
        return len(rows)
    return 0


def generator_version(sample: Path = ROOT / "raw", schemas: Path = ROOT / "schemas") -> str:
    """A sha256 of this generator, the sample reports and the schemas: a tree made from other
    versions of them is made again."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for folder in (sample, schemas):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def deliveries(raw: Path) -> list[Path]:
    """The delivered reports of a raw tree: raw/<year>/<department>/<type>.<csv|xlsx|json>."""
    return sorted(path for path in raw.glob("*/*/*.*") if path.suffix in (".csv", ".xlsx", ".json"))


def municipality_codes(seed: int) -> np.ndarray:
    """290 synthetic, sorted 4-digit codes, 0000 (the country) and 0604 (Aneby) among them."""
    pool = np.setdiff1d(np.arange(114, 2600), [604])
    drawn = np.random.default_rng([seed, 0]).choice(pool, MUNICIPALITIES - 2, replace=False)
    return np.char.zfill(np.sort(np.concatenate([[0, 604], drawn])).astype(str), 4)


def synthetic_key_figures(count: int, goals: list[str]) -> list[dict]:
    """Codelist rows of `count` synthetic key figures, valid for every required field."""
    rows = []
    for number in range(count):
        persons = number % PERSONS_EVERY == PERSONS_EVERY - 1 or (count < PERSONS_EVERY and number == 0)
        rows.append({
            "nyckeltal_id": f"N{FIRST_ID + number:05d}",
            "namn": f"Syntetiskt nyckeltal {number + 1}",
            "enhet": "antal" if persons else ("procent", "index", "kr/inv")[number % 3],
            "beskrivning": "Syntetiskt nyckeltal för prestandamätning; påhittade värden, "
                           "inte Koladas data.",
            "kalla": "Syntetiska data (benchmarks/national.py)",
            "mal_id": goals[number % len(goals)],
            "onskad_riktning": ("ökande", "minskande")[number % 2],
            "raknar_personer": "true" if persons else "false",
        })
    return rows


def write_schemas(source: Path, target: Path, key_figures: list[dict]) -> list[str]:
    """Copy the schemas and add the synthetic key figures to the codelist. Returns the ids of
    the key figures in codelist order (the order of the deliveries)."""
    shutil.copytree(source, target)
    path = target / "codelists" / "nyckeltal_definitioner.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, sample = reader.fieldnames, list(reader)
    # grouped by goal, as a codelist is maintained: the ids are not in sorted order
    ordered = sorted(key_figures, key=lambda row: row["mal_id"])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(sample + ordered)
    return [row["nyckeltal_id"] for row in ordered]


def tenths(values: np.ndarray) -> np.ndarray:
    """Non-negative tenths as text with one decimal: 123 -> '12.3'."""
    return np.char.add(np.char.add((values // 10).astype(str), "."), (values % 10).astype(str))


def chunk_of(ids: np.ndarray, persons: np.ndarray, municipalities: np.ndarray, year: int,
             errors: float, rng: np.random.Generator) -> tuple[pa.Table, dict]:
    """Rows for the key figures `ids` x municipalities x T/K/M of one year, in export order,
    with errors injected. Returns the table and the errors per kind."""
    rows = len(ids) * len(municipalities) * 3
    index = np.arange(rows)
    figure = index // (len(municipalities) * 3)
    kpi = ids[figure].astype("<U6")
    municipality = municipalities[(index // 3) % len(municipalities)].astype("<U5")
    gender = GENDERS[index % 3].astype("<U6")
    # values: gamma-distributed; key figures counting persons often have small counts
    scale = np.where(persons[figure], 10.0, 50.0)
    value = tenths(np.rint(rng.gamma(2.0, scale) * 10).astype(np.int64)).astype("<U12")
    kinds = np.full(rows, "", dtype="<U20")
    wrong = np.flatnonzero(rng.random(rows) < errors)
    kinds[wrong] = rng.choice(np.array(ERROR_KINDS), len(wrong))
    # a duplicate copies the key of a clean row before it, so that the copy alone is rejected
    clean_before = np.r_[False, kinds[:-1] == ""]
    kinds[(kinds == "duplicate-key") & ~clean_before] = "bad-number"
    for kind, column, bad_values in (("bad-number", value, ["12.5x", "1.2.3", "n.a."]),
                                     ("unknown-gender", gender, ["X", "Totalt"]),
                                     ("malformed-code", municipality, ["604", "06O4", "60400"]),
                                     ("unknown-key-figure", kpi, ["U99999", "N99999"])):
        at = np.flatnonzero(kinds == kind)
        column[at] = rng.choice(np.array(bad_values), len(at))
    at = np.flatnonzero(kinds == "duplicate-key")
    kpi[at], municipality[at], gender[at] = kpi[at - 1], municipality[at - 1], gender[at - 1]
    table = pa.table({"nyckeltal_id": kpi, "kommun_id": municipality,
                      "ar": np.full(rows, str(year)), "kon": gender, "varde": value})
    found = {kind: int(np.count_nonzero(kinds == kind)) for kind in ERROR_KINDS}
    return table, found


def write_year(path: Path, ids: list[str], persons: set[str], municipalities: np.ndarray,
               year: int, errors: float, seed: int) -> tuple[int, dict]:
    """One year's national delivery, written chunk by chunk (memory stays small)."""
    per_chunk = max(1, ROWS_PER_CHUNK // (len(municipalities) * 3))
    ids_array = np.array(ids)
    persons_array = np.array([kpi in persons for kpi in ids])
    rows, found = 0, dict.fromkeys(ERROR_KINDS, 0)
    schema = pa.schema([(name, pa.string()) for name in COLUMNS])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write((",".join(COLUMNS) + "\n").encode())  # a plain header, as exports have
        writer = pacsv.CSVWriter(handle, schema, write_options=pacsv.WriteOptions(
            include_header=False, quoting_style="none"))
        for number, start in enumerate(range(0, len(ids), per_chunk)):
            rng = np.random.default_rng([seed, year, number])
            table, chunk_found = chunk_of(ids_array[start:start + per_chunk],
                                          persons_array[start:start + per_chunk],
                                          municipalities, year, errors, rng)
            writer.write_table(table.cast(schema))
            rows += table.num_rows
            for kind, count in chunk_found.items():
                found[kind] += count
        writer.close()
    return rows, found


def generate(target: Path, rows: int, errors: float, seed: int, sample: Path = ROOT / "raw",
             schemas: Path = ROOT / "schemas") -> dict:
    """Write TARGET/raw, TARGET/schemas and TARGET/manifest.json; return the manifest."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    raw = target / "raw"
    shutil.copytree(sample, raw)
    for path in raw.glob("*/*/nyckeltal.*"):  # each key figure from one place
        path.unlink()
    sample_rows = {str(path.relative_to(raw)): count_rows(path) for path in deliveries(raw)}
    per_figure = MUNICIPALITIES * 3 * len(YEARS)
    count = max(1, round((rows - sum(sample_rows.values())) / per_figure))
    with (schemas / "codelists" / "nyckeltal_definitioner.csv").open(encoding="utf-8") as handle:
        goals = sorted({row["mal_id"] for row in csv.DictReader(handle)})
    key_figures = synthetic_key_figures(count, goals)
    ids = write_schemas(schemas, target / "schemas", key_figures)
    persons = {row["nyckeltal_id"] for row in key_figures if row["raknar_personer"] == "true"}
    municipalities = municipality_codes(seed)
    files = dict(sample_rows)
    injected = dict.fromkeys(ERROR_KINDS, 0)
    for year in YEARS:
        path = raw / str(year) / "kommunledning" / "nyckeltal.csv"
        files[str(path.relative_to(raw))], found = write_year(path, ids, persons, municipalities,
                                                              year, errors, seed)
        for kind, number in found.items():
            injected[kind] += number
    manifest = {
        "synthetic": True,
        "rows": sum(files.values()),
        "bytes": sum(path.stat().st_size for path in raw.rglob("*") if path.is_file()),
        "sample_rows": sum(sample_rows.values()),
        "national_rows": sum(files.values()) - sum(sample_rows.values()),
        "key_figures": count,
        "key_figures_counting_persons": len(persons),
        "municipalities": MUNICIPALITIES,
        "years": list(YEARS),
        "errors_injected": injected,
        "parameters": {"rows": rows, "errors": errors, "seed": seed},
        "generator_sha256": generator_version(sample, schemas),
        "files": dict(sorted(files.items())),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="about this many rows in the whole tree")
    parser.add_argument("--errors", type=float, default=0.001,
                        help="share of the national rows with an error (default 0.001)")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--out", type=Path, required=True,
                        help="target folder: gets raw/, schemas/ and manifest.json (replaced)")
    args = parser.parse_args()
    manifest = generate(args.out, args.rows, args.errors, args.seed)
    print(f"{manifest['rows']:,} rows ({manifest['national_rows']:,} national: "
          f"{manifest['key_figures']:,} key figures x {MUNICIPALITIES} municipalities x "
          f"{len(YEARS)} years x 3; {manifest['sample_rows']:,} sample), "
          f"{manifest['bytes'] / 1e6:,.1f} MB, {sum(manifest['errors_injected'].values()):,} "
          f"rows with errors -> {args.out} (synthetic data)")


if __name__ == "__main__":
    main()
