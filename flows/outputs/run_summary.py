"""The run summary: per delivered file, rows read = published + rejected, and every problem.
Written under reports/ (internal: it may quote personal data), never under published/."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel

from flows.checks.delivery import ValidatedFile
from flows.core.messages import LANGUAGES, Said, say, t
from flows.core.problems import Problem
from flows.intake.discover import Discovery
from flows.outputs.release import Release, switch_latest


class FileSummary(BaseModel):
    path: str
    report_type: str | None
    department: str | None
    year: int | None
    rows_read: int
    rows_published: int
    rows_rejected: int
    file_rejected: bool
    rows_kept: int = 0  # rows of an earlier valid delivery still published (file_rejected)
    kept_from: str | None = None
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    problems: list[Problem]


class RunSummary(BaseModel):
    raw_dir: str
    finished: str
    published: bool
    reason: str | None = None  # why nothing was published
    unchanged_since: str | None = None  # nothing changed since this release: nothing redone
    release: Release | None = None
    files: list[FileSummary]
    reference_problems: list[Problem] = []  # in the codelists maintained with the code
    warnings: list[str] = []  # faults the run met and mended (a damaged release or state file)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_published(self) -> int:
        return sum(f.rows_published for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.files for p in f.problems]


def file_summaries(discovery: Discovery, results: list[ValidatedFile],
                   noted: list[Problem] = ()) -> list[FileSummary]:
    """One summary per file; `noted`: problems found before discovery (files in motion at the
    source) - on the file's own summary when it was validated, else a rejected file of their
    own, so that no file is silently missing and read = published + rejected still holds."""
    files = [FileSummary(path=r.file, report_type=r.report_type, department=r.department,
                         year=r.year, rows_read=r.rows_read, rows_published=r.rows_published,
                         rows_rejected=r.rows_rejected, file_rejected=r.file_rejected,
                         rows_kept=r.rows_kept, kept_from=r.kept_from, format=r.format,
                         encoding=r.encoding, delimiter=r.delimiter, sheet=r.sheet,
                         problems=r.problems) for r in results]
    files += [FileSummary(path=p.file, report_type=None, department=None, year=None,
                          rows_read=0, rows_published=0, rows_rejected=0, file_rejected=True,
                          problems=[p]) for p in discovery.rejected]
    by_path = {f.path: f for f in files}
    for p in noted:
        if p.file in by_path:
            by_path[p.file].problems = [p, *by_path[p.file].problems]
            continue
        parts = p.file.split("/")  # <year>/<department>/<file>: in that department's report
        placed = len(parts) == 3 and parts[0].isdigit()
        files.append(FileSummary(path=p.file, report_type=None,
                                 department=parts[1] if placed else None,
                                 year=int(parts[0]) if placed else None, rows_read=0,
                                 rows_published=0, rows_rejected=0, file_rejected=True,
                                 problems=[p]))
    return sorted(files, key=lambda f: f.path)


def write_run_summary(summary: RunSummary, reports_dir: Path) -> Path:
    """reports/<time>/summary.json and one readable report per department; reports/latest
    points at the newest run."""
    reports_dir = Path(reports_dir)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = reports_dir / stamp
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(
        json.dumps(summary.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8")
    if summary.warnings:
        (folder / "varningar.md").write_text(
            f"# {say('summary.warnings')}\n\n" + "".join(f"- {line}\n" for line in summary.warnings),
            encoding="utf-8")
    if summary.reference_problems:
        (folder / "kodlistor.md").write_text(reference_report(summary), encoding="utf-8")
    notes = release_notes(summary.release)
    if notes:
        (folder / "publicering.md").write_text(
            f"# {say('summary.release')}\n\n" + "".join(f"- {line}\n" for line in notes),
            encoding="utf-8")
    for department, text in department_summaries(summary).items():
        (folder / f"{department}.md").write_text(text, encoding="utf-8")
    set_aside_latest(reports_dir)
    switch_latest(reports_dir, folder)
    return folder


def set_aside_latest(reports_dir: Path) -> list[str]:
    """reports/latest is a link each run replaces. A folder or file in its place (made by hand,
    or by a copy that followed the link) is moved aside, not overwritten: -> the warning."""
    link = Path(reports_dir) / "latest"
    if link.is_symlink() or not link.exists():
        return []
    aside = link.with_name(f"latest.{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}")
    link.rename(aside)
    kind = "summary.folder" if aside.is_dir() else "summary.file"
    return [str(Said(*(t("summary.latest-set-aside", lang, link=link, aside=aside,
                         kind=t(kind, lang)) for lang in LANGUAGES)))]


def release_notes(release: Release | None) -> list[str]:
    """What the release could not do as asked: datasets that kept the previous release's
    files or table (or were left out), and values a format could not hold as they are."""
    if release is None:
        return []
    lines = []
    for dataset_id, why in release.fallbacks.items():
        if why.startswith("opendata.db:"):
            lines.append(f"{dataset_id}: {say('summary.previous-table')} ({why})")
        elif dataset_id in release.rows:
            lines.append(f"{dataset_id}: {say('summary.previous-files')} ({why})")
        else:
            lines.append(f"{dataset_id}: {say('summary.left-out')} ({why})")
    return lines + release.notes


def kept_note(file: FileSummary) -> str:
    return f"{file.path}: {say('summary.kept', rows=file.rows_kept, release=file.kept_from)}"


HEADER = "| " + " | ".join(str(say(f"summary.column-{name}"))
                          for name in ("file", "read", "published", "rejected")) + " |"


def department_summaries(summary: RunSummary, folder: Path | None = None,
                         shown: int | None = None) -> dict[str, str]:
    """One Markdown report per department (files outside the layout under 'okand'): every
    problem, or - with `shown` - the first `shown` of each file and where the full report is
    (the operator's UI gets that: a report of thousands of rows is for a file, not a page)."""
    by_department: dict[str, list[FileSummary]] = defaultdict(list)
    for file in summary.files:
        by_department[file.department or "okand"].append(file)
    reports = {}
    for department, files in sorted(by_department.items()):
        lines = [f"# {say('summary.validation-report')}: {department}", "",
                 f"{say('summary.run')}: {summary.finished}", "", HEADER, "|---|---:|---:|---:|"]
        lines += [f"| {f.path} | {f.rows_read} | {f.rows_published} | {f.rows_rejected} |"
                  for f in files]
        lines += ["", *(kept_note(f) for f in files if f.kept_from)]
        for file in files:
            if not file.problems:
                continue
            lines += ["", f"## {file.path}", ""]
            for p in file.problems[:shown]:
                where = f"rad {p.row}" if p.row is not None else "hela filen"
                column = f", kolumn {p.field}" if p.field else ""
                lines.append(f"- **{p.type}** ({where}{column}): {p.message_sv}  \n"
                             f"  _{p.message_en}_")
            hidden = len(file.problems) - len(file.problems[:shown])
            if hidden:
                full = (folder / f"{department}.md") if folder else f"{department}.md"
                lines.append(f"- … {hidden} {say('summary.more')}: {full}")
        reports[department] = "\n".join(lines) + "\n"
    return reports


def reference_report(summary: RunSummary) -> str:
    lines = [f"# {say('summary.reference')}", ""]
    for p in summary.reference_problems:
        where = f"rad {p.row}" if p.row is not None else "hela filen"
        lines.append(f"- **{p.type}** ({p.severity}, {p.file}, {where}): {p.message_sv}  \n"
                     f"  _{p.message_en}_")
    return "\n".join(lines) + "\n"


SHOWN = 3  # examples named when one kind of problem repeats


def collapsed(problems: list[Problem], report: str) -> list[tuple[str, str]]:
    """Problems as a person reads them on a console: one line per kind (severity and type),
    with a count and a few examples when a kind repeats; the full list is in `report`.
    -> (severity, line)."""
    kinds: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        kinds.setdefault((p.severity, p.type), []).append(p)
    lines = []
    for (severity, kind), found in kinds.items():
        if len(found) <= SHOWN:
            lines += [(severity, f"{severity} {kind} {p.file}: {p.message_sv}") for p in found]
            continue
        examples = ", ".join(p.value or (f"rad {p.row}" if p.row else p.file)
                             for p in found[:SHOWN])
        lines.append((severity, f"{severity} {kind} ×{len(found)}: {examples} … – "
                                f"{say('summary.full-list')}: {report}"))
    return lines
