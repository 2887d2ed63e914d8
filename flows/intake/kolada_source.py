"""Kolada as a source of the flow. With OPENDATA_KOLADA_API set, the run pulls from Kolada's
API the programme's Kolada key figures (the ids of `nyckeltal_definitioner` shaped N00000 or
U00000) for every municipality and the country (0000), for the programme's years, and the
municipality groups that contain the publishing municipality. It writes them as two
deliveries per year, in the API's own shape, under `<state>/kolada/leveranser/`:

    <år>/kommunledning/kolada_varden.json               the values of that year
    <sista år>/kommunledning/kolada_jamforelsegrupper.json  the groups and their members

Those take the place of the shipped illustrative files of the same names in raw/, and are
validated like any delivery. A file is rewritten only when its content changes, and every
answer is kept by content (`<state>/kolada/svar/`): a re-run with the same answers has the
same inputs, so nothing downstream is redone. Unset (the default, `make run`), the flow reads
the shipped deliveries in raw/ and says so."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flows.core.messages import Said, say
from flows.core.register import Register
from flows.intake.discover import Discovery, RawFile, programme_years
from flows.intake.kolada import (
    ResponseCache,
    fetch_groups_containing,
    fetch_municipalities,
    fetch_values,
)

VALUES = "kolada_varden"
GROUPS = "kolada_jamforelsegrupper"
DEPARTMENT = "kommunledning"  # the department whose folder the Kolada deliveries are filed in
COUNTRY = "0000"
KOLADA_ID = re.compile(r"^[NU]\d{5}$")


def kolada_key_figures(register: Register) -> list[str]:
    """The programme's key figures that Kolada has (its ids: N00000 or U00000)."""
    rows = register.codelist_rows("nyckeltal_definitioner")
    column = rows[0].index("nyckeltal_id")
    return sorted({row[column] for row in rows[1:] if KOLADA_ID.match(row[column] or "")})


def pull(api: str, register: Register, folder: Path, **options: Any) -> tuple[list[RawFile],
                                                                              list[Said]]:
    """The deliveries pulled from `api` into `folder`, and what to tell the operator."""
    folder = Path(folder)
    cache = ResponseCache(folder / "svar")
    options = {"api": api, "cache": cache, **options}
    municipality = register.package.municipality
    kpis = kolada_key_figures(register)
    years = list(programme_years(register))
    groups = fetch_groups_containing(municipality, **options)
    areas = {str(a["id"]) for a in fetch_municipalities(**options) if a.get("type") == "K"}
    areas |= {str(m["id"]) for g in groups for m in g.get("members") or []}
    values = fetch_values(kpis, sorted(areas | {municipality, COUNTRY}), years, **options)
    files = [_write(folder / "leveranser", year, VALUES, _entries(values["values"], year))
             for year in years if _entries(values["values"], year)]
    files.append(_write(folder / "leveranser", years[-1], GROUPS, _groups(groups)))
    told = [say("kolada.pulled", values=values["count"], kpis=len(kpis),
                municipalities=len(areas), groups=len(groups), api=api)]
    if cache.stale:
        told.append(say("kolada.stale", count=len(cache.stale)))
    return files, told


def kolada_inputs(found: Discovery, register: Register, api: str | None, state_dir: Path
                  ) -> tuple[Discovery, list[str]]:
    """The run's deliveries with Kolada's from `api` (when set), and what to tell about them."""
    if not api:
        shipped = any(f.report_type in (VALUES, GROUPS) for f in found.files)
        return found, [str(say("kolada.offline"))] if shipped else []
    pulled, told = pull(api, register, Path(state_dir) / "kolada")
    return with_kolada(found, pulled), [str(line) for line in told]


def with_kolada(found: Discovery, pulled: list[RawFile]) -> Discovery:
    """The discovery with the pulled deliveries in place of raw/'s Kolada files."""
    kept = [f for f in found.files if f.report_type not in (VALUES, GROUPS)]
    return Discovery(files=sorted(kept + pulled, key=lambda f: f.name), rejected=found.rejected)


def _entries(values: list[dict[str, Any]], year: int) -> list[dict[str, Any]]:
    """One year's entries in a fixed order (the API's order may vary between pulls)."""
    chosen = [dict(v, values=sorted(v.get("values") or [], key=lambda g: str(g.get("gender"))))
              for v in values if str(v.get("period")) == str(year)]
    return sorted(chosen, key=lambda v: (str(v.get("kpi")), str(v.get("municipality"))))


def _groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({"id": g["id"], "title": g.get("title"),
                    "members": sorted(g.get("members") or [], key=lambda m: str(m.get("id")))}
                   for g in groups), key=lambda g: str(g["id"]))


def _write(root: Path, year: int, report_type: str, items: list[dict[str, Any]]) -> RawFile:
    """The delivery as the API shapes it; the file is left as it is when its content is."""
    name = f"{year}/{DEPARTMENT}/{report_type}.json"
    path = root / name
    text = json.dumps({"count": len(items), "values": items}, ensure_ascii=False,
                      separators=(",", ":")) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return RawFile(path=path, name=name, year=year, department=DEPARTMENT,
                   report_type=report_type, format="json")
