"""Step 1: find the delivered files in raw/<year>/<department>/<report type>.<csv|xlsx|json>."""

from __future__ import annotations

import os
import unicodedata
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel

from flows.core.messages import LANGUAGES, Said, say, t
from flows.core.problems import Problem, message, problem
from flows.core.register import Register

DELIVERY_FORMATS = ("csv", "xlsx", "json")
MAX_BYTES = 200 * 2**20  # Settings.max_file_mb's default: the caller passes the run's own


def walk(root: Path) -> list[Path]:
    """Every file below root, in order; symlinked folders are not followed (a symlinked file
    is listed, and checked by the caller)."""
    found = []
    for folder, folders, files in os.walk(root, followlinks=False):
        folders.sort()
        found += [Path(folder) / name for name in files]
    return sorted(p for p in found if p.is_file() or p.is_symlink())


class RawFile(BaseModel):
    """A delivered report whose place says what it is."""

    path: Path
    name: str  # path relative to the raw root, as shown in every message
    year: int | None
    department: str | None
    report_type: str
    format: str
    stamp: tuple[int, int] | None = None  # (size, mtime_ns) when the run hashed it: see motion


class Discovery(BaseModel):
    files: list[RawFile]
    rejected: list[Problem]  # files that do not fit the layout, one problem each


def is_ignored(path: Path) -> bool:
    """Hidden files and READMEs are documentation, not deliveries."""
    return path.name.startswith(".") or path.name.upper().startswith("README")


def programme_years(register: Register) -> range:
    rows = register.codelist_rows("malprogram")
    header, first = rows[0], rows[1]
    start = int(first[header.index("period_start")])
    end = int(first[header.index("period_slut")])
    return range(start, end + 1)


def discover(raw_dir: Path, register: Register, max_bytes: int = MAX_BYTES) -> Discovery:
    """Every delivered file that fits the layout; the others, and files larger than
    `max_bytes` (Settings.max_file_bytes), rejected with a problem each."""
    raw_dir = Path(raw_dir)
    files: list[RawFile] = []
    rejected: list[Problem] = []
    if not raw_dir.is_dir():
        rejected.append(problem("bad-path", str(raw_dir), "problem.bad-path.no-folder",
                                {"folder": raw_dir, "layout": say("intake.layout")}))
        return Discovery(files=files, rejected=rejected)
    root = raw_dir.resolve()
    for path in walk(raw_dir):
        relative = path.relative_to(raw_dir)
        if any(is_ignored(Path(part)) for part in relative.parts):
            continue
        try:
            target, size = path.resolve(strict=True), path.stat().st_size
        except (OSError, RuntimeError):  # a dangling link or a loop of links
            rejected.append(problem("unsafe-path", relative.as_posix(),
                                    "problem.unsafe-path.broken-link"))
            continue
        if not target.is_relative_to(root):
            rejected.append(problem("unsafe-path", relative.as_posix(),
                                    "problem.unsafe-path.outside"))
            continue
        if size > max_bytes:
            rejected.append(problem("file-too-large", relative.as_posix(),
                                    "problem.file-too-large.limit",
                                    {"megabytes": max_bytes // 2**20}, value=size))
            continue
        found = classify(path, relative.as_posix(), register, strict_layout=True)
        if isinstance(found, Problem):
            rejected.append(found)
        else:
            files.append(found)
    files, clashes = without_clashes(files)
    return Discovery(files=files, rejected=rejected + clashes)


def without_clashes(files: list[RawFile]) -> tuple[list[RawFile], list[Problem]]:
    """Files whose names differ only in case or Unicode form (aktiviteter.csv and
    AKTIVITETER.CSV in one folder, possible on Linux and on some shares) would be the same
    delivery twice, and which one is meant cannot be told: each of them is rejected by name,
    naming the others, until one is left."""
    same: dict[str, list[RawFile]] = defaultdict(list)
    for raw in files:
        same[unicodedata.normalize("NFC", raw.name).casefold()].append(raw)
    kept, clashes = [], []
    for group in same.values():
        if len(group) == 1:
            kept += group
            continue
        names = ", ".join(f"'{raw.name}'" for raw in group)
        clashes += [problem("bad-path", raw.name, "problem.bad-path.same-delivery",
                            {"names": names}) for raw in group]
    return sorted(kept, key=lambda raw: raw.path), clashes


def classify(path: Path, name: str, register: Register, *, strict_layout: bool,
             report_type: str | None = None, department: str | None = None,
             year: int | None = None) -> RawFile | Problem:
    """Work out what a file is from its place (year/department/type.ext), or from the overrides.

    With strict_layout=False (a department checking a file before delivery) a file outside the
    layout is accepted with the checks that need its year or department left out."""
    parts = Path(name).parts
    spaced = spaces_problem(name, parts if strict_layout else parts[-1:])
    if spaced is not None:
        return spaced
    suffix = path.suffix.lower().lstrip(".")
    departments = register.codes("forvaltningar")
    years = programme_years(register)
    types = register.report_types
    in_layout = len(parts) >= 3 and parts[-3].isdigit() and len(parts[-3]) == 4

    if strict_layout and (len(parts) != 3 or not in_layout):
        return problem("bad-path", name, "problem.bad-path.not-in-layout",
                       {"layout": say("intake.layout"),
                        "example": f"raw/{years.start}/{departments[0]}/{types[0]}.csv"})
    if suffix not in DELIVERY_FORMATS:
        return problem("unsupported-format", name, "problem.unsupported-format.suffix",
                       {"suffix": suffix}, value=suffix)
    if year is None and in_layout:
        year = int(parts[-3])
    folder_named = department is None
    if department is None and in_layout:
        department = unicodedata.normalize("NFC", parts[-2])  # macOS writes NFD
    report_type = report_type or unicodedata.normalize("NFC", path.stem).lower()

    if report_type not in types:
        return problem("unknown-report-type", name, "problem.unknown-report-type.name",
                       {"name": path.stem, "types": ", ".join(types),
                        "rename": rename_hint("intake.the-file", path.name, types, path.suffix)},
                       value=path.stem)
    if department is not None and department not in departments:
        shown = parts[-2] if in_layout and folder_named else department  # as on disk
        return problem("unknown-department", name, "problem.unknown-department.name",
                       {"name": shown, "departments": ", ".join(departments),
                        "rename": rename_hint("intake.the-folder", shown, departments)},
                       value=shown)
    if year is not None and year not in years:
        return problem("year-outside-programme", name, "problem.year-outside-programme.year",
                       {"year": year, "first": years.start, "last": years.stop - 1}, value=year)
    return RawFile(path=path, name=name, year=year, department=department,
                   report_type=report_type, format=suffix)


def spaces_problem(name: str, parts: tuple[str, ...]) -> Problem | None:
    """Spaces around a folder's or a file's name, or before its extension ('social ',
    'aktiviteter.csv ', 'aktiviteter .csv'): invisible in a listing, and Windows cannot even
    open such a name, so the file is rejected with the exact rename rather than guessed at."""
    renames = []
    for index, part in enumerate(parts):
        is_file = index == len(parts) - 1
        fixed = ".".join(piece.strip() for piece in part.split(".")) if is_file \
            else part.strip()
        if fixed != part:
            renames.append((is_file, part, fixed))
    if not renames:
        return None
    listed = [message("intake.rename-to", {
        "what": say("intake.the-file" if is_file else "intake.the-folder"), "name": old,
        "fixed": new}) for is_file, old, new in renames]
    joined = Said(*(t("intake.and", lang).join(said[lang] for said in listed) for lang in LANGUAGES))
    return problem("bad-path", name, "problem.bad-path.spaces", {"renames": joined})


def folded(text: str) -> str:
    """A name as people mean it: any Unicode form, case and accents alike (å, ä -> a)."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def rename_hint(what: str, shown: str, known: list[str] | tuple[str, ...], suffix: str = ""
                ) -> Said | str:
    """'Byt namn på mappen 'Social' till 'social'.' when the name is a known one written
    differently (case, accents, Unicode form); else nothing. ``what`` is the key naming the
    thing to rename (intake.the-file, intake.the-folder)."""
    stem = shown[: len(shown) - len(suffix)] if suffix else shown
    match = next((k for k in known if folded(k) == folded(stem)), None)
    if match is None:
        return ""
    return message("intake.rename", {"what": say(what), "name": shown,
                                     "fixed": match + suffix.lower()})
