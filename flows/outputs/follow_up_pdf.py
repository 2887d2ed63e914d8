"""The follow-up report as PDF (fpdf2: pure Python, so `make run` needs no browser or system
fonts). Same numbers as the HTML report: both are drawn from the same report data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fpdf import FPDF

from flows.core.messages import t
from flows.outputs.charts import number_text

REPLACE = {"–": "-", "—": "-", "’": "'", "“": '"', "”": '"', "…": "...", "−": "-", "₂": "2"}


def _latin(text: Any) -> str:
    """The PDF core fonts speak Latin-1 (å, ä, ö included); a few typographic marks are
    replaced, anything else outside Latin-1 shown as '?'."""
    value = "" if text is None else str(text)
    for old, new in REPLACE.items():
        value = value.replace(old, new)
    return value.encode("latin-1", errors="replace").decode("latin-1")


def _number(value: Any) -> str:
    return "-" if value is None else number_text(float(value))  # ASCII: cells skip _latin


def write(pdf: FPDF, height: float, text: str) -> None:
    """A paragraph from the left margin, the next one below it: wrapped at spaces to the page
    width here, each line one cell (fpdf2's own multi_cell lays text out a character at a
    time, some milliseconds a paragraph: too slow for a report of thousands of key figures)."""
    for line in wrapped(pdf, _latin(text)):
        pdf.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")


def wrapped(pdf: FPDF, text: str) -> list[str]:
    """The text's lines at the current font, each as wide as the page allows."""
    room = pdf.epw - 2 * pdf.c_margin
    widths = pdf.current_font.cw
    scale = pdf.font_size / 1000
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, width = "", 0.0
        for word in paragraph.split(" "):
            size = sum(widths[c] for c in word) * scale
            gap = widths[" "] * scale if line else 0.0
            if line and width + gap + size > room:
                lines.append(line)
                line, width, gap = "", 0.0, 0.0
            while size > room:  # a word longer than a line is cut
                cut = 1
                while cut < len(word) and sum(widths[c] for c in word[:cut + 1]) * scale <= room:
                    cut += 1
                lines.append(word[:cut])
                word = word[cut:]
                size = sum(widths[c] for c in word) * scale
            line = f"{line} {word}" if line else word
            width += gap + size
        lines.append(line)
    return lines


def follow_up_pdf(report: dict[str, Any], lang: str = "sv",
                  sdg_names: Mapping[int, str] | None = None) -> bytes:
    """The report as a PDF in ``lang``; the programme's own words stay Swedish (marked so in
    English). ``sdg_names``: the Agenda 2030 goals' names in ``lang`` (else the report's)."""
    pdf = new_document(report, lang)
    write_summary(pdf, report, lang)
    for perspective in report["perspektiv"]:
        write_perspective(pdf, perspective, lang)
    write_economy(pdf, report["ekonomi"], lang)
    write_fleet(pdf, report["fordon"], lang)
    write_agenda(pdf, report["agenda2030"], lang, sdg_names or {})
    return bytes(pdf.output())


def new_document(report: dict[str, Any], lang: str) -> FPDF:
    start, end = report["period"]
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2000, 1, 1))  # same bytes each run
    pdf.set_title(_latin(t("portal.pdf-title", lang, start=start, end=end)))
    pdf.set_author("Aneby kommun")
    pdf.set_lang(lang)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    return pdf


def statuses(counts: dict[str, int], lang: str) -> str:
    """``3 planerad, 1 pågående`` with each status in ``lang``."""
    return ", ".join(f"{n} {t(f'portal.{status}', lang)}" for status, n in counts.items())


def heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "B", 13)
    pdf.ln(2)
    write(pdf, 7, text)
    pdf.set_font("Helvetica", "", 9)


def write_summary(pdf: FPDF, report: dict[str, Any], lang: str) -> None:
    start, end = report["period"]
    pdf.set_font("Helvetica", "B", 16)
    write(pdf, 8, t("portal.pdf-title", lang, start=start, end=end))
    pdf.set_font("Helvetica", "I", 9)
    write(pdf, 5, t("portal.pdf-illustrative", lang))
    pdf.set_font("Helvetica", "", 10)
    write(pdf, 6, f"{t('portal.activities', lang)}: {statuses(report['aktiviteter_totalt'], lang)}")


def write_perspective(pdf: FPDF, perspective: dict[str, Any], lang: str) -> None:
    """A perspective's goals (their names verbatim, in Swedish), with each goal's activities,
    key figures and Agenda 2030 targets."""
    pdf.set_font("Helvetica", "B", 13)
    pdf.ln(2)
    write(pdf, 7, f"{perspective['perspektiv_namn']} {t('portal.verbatim', lang)}".rstrip())
    for goal in perspective["mal"]:
        pdf.set_font("Helvetica", "B", 11)
        write(pdf, 6, f"{goal['mal_id']} {goal['mal_text']}")
        pdf.set_font("Helvetica", "", 9)
        write(pdf, 5, statuses(goal["status"], lang))
        for activity in goal["aktiviteter"]:
            status = t(f"portal.{activity['status']}", lang)
            write(pdf, 5, f"- {activity['titel']} ({status}, {activity['rapportar']})")
        for figure in goal["nyckeltal"]:
            values = "; ".join(f"{y}: {_number(v)}" for y, v in figure["varden"].items())
            notes = t("portal.pdf-figure-notes", lang,
                      direction=t(f"portal.{figure['onskad_riktning']}", lang),
                      trend=t(f"portal.{figure['trend']}", lang))
            write(pdf, 5, f"{figure['nyckeltal_id']} {figure['namn']}: {values or '-'} ({notes})")
        if goal["delmal"]:
            write(pdf, 5, "Agenda 2030: " + ", ".join(goal["delmal"]))


def write_economy(pdf: FPDF, economy: list[dict[str, Any]], lang: str) -> None:
    heading(pdf, t("portal.pdf-economy", lang))
    with pdf.table(text_align="RIGHT", col_widths=(20, 30, 30, 40)) as table:
        table.row([_latin(t(key, lang)) for key in ("portal.year", "portal.pdf-budget",
                                                      "portal.outcome", "portal.pdf-deviation")])
        for row in economy:
            table.row([str(row["ar"]), _number(row["budget_tkr"]), _number(row["utfall_tkr"]),
                       _number(row["avvikelse_tkr"])])


def write_fleet(pdf: FPDF, fleet: list[dict[str, Any]], lang: str) -> None:
    heading(pdf, t("portal.fleet", lang))
    with pdf.table(text_align="RIGHT", col_widths=(20, 40, 40)) as table:
        table.row([_latin(t(key, lang)) for key in ("portal.year", "portal.pdf-vehicles",
                                                      "portal.fossil-free")])
        for row in fleet:
            table.row([str(row["ar"]), str(row["antal_fordon"]),
                       _number(row["andel_fossilfria_procent"])])


def write_agenda(pdf: FPDF, agenda: dict[str, Any], lang: str, names: Mapping[int, str]) -> None:
    heading(pdf, t("portal.agenda", lang))
    write(pdf, 5, t("portal.pdf-touches", lang, goals=agenda["mal_berorda"],
                    targets=agenda["delmal_berorda"]))
    for goal in agenda["mal"]:
        name = names.get(goal["sdg_mal"], goal["namn"])
        write(pdf, 5, f"{goal['sdg_mal']}. {name}: {goal['antal_kopplingar']} "
              f"{t('portal.links', lang)}")
