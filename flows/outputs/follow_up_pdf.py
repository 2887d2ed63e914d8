"""The follow-up report as PDF (fpdf2: pure Python, so `make run` needs no browser or system
fonts). Same numbers as the HTML report: both are drawn from the same report data."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF

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


def follow_up_pdf(report: dict[str, Any]) -> bytes:
    start, end = report["period"]
    pdf = FPDF(format="A4")
    pdf.set_creation_date(__import__("datetime").datetime(2000, 1, 1))  # same bytes each run
    pdf.set_title(_latin(f"Uppföljning av målprogrammet {start}-{end}"))
    pdf.set_author("Aneby kommun")
    pdf.set_lang("sv")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    write(pdf, 8, f"Uppföljning av målprogrammet {start}-{end}")
    pdf.set_font("Helvetica", "I", 9)
    write(pdf, 5, "Illustrativa exempeldata: siffrorna är påhittade och är inte Aneby kommuns "
          "statistik. Programmets perspektiv och mål återges ordagrant.")
    totals = report["aktiviteter_totalt"]
    pdf.set_font("Helvetica", "", 10)
    write(pdf, 6, "Aktiviteter: " + ", ".join(f"{n} {status}" for status, n in totals.items()))
    for perspective in report["perspektiv"]:
        pdf.set_font("Helvetica", "B", 13)
        pdf.ln(2)
        write(pdf, 7, perspective["perspektiv_namn"])
        for goal in perspective["mal"]:
            pdf.set_font("Helvetica", "B", 11)
            write(pdf, 6, f"{goal['mal_id']} {goal['mal_text']}")
            pdf.set_font("Helvetica", "", 9)
            write(pdf, 5, ", ".join(f"{n} {s}" for s, n in goal["status"].items()))
            for activity in goal["aktiviteter"]:
                write(pdf, 5,
                      f"- {activity['titel']} ({activity['status']}, {activity['rapportar']})")
            for figure in goal["nyckeltal"]:
                values = "; ".join(f"{y}: {_number(v)}" for y, v in figure["varden"].items())
                write(pdf, 5, f"{figure['nyckeltal_id']} {figure['namn']}: {values or '-'} "
                      f"(önskad riktning {figure['onskad_riktning']}, trend {figure['trend']})")
            if goal["delmal"]:
                write(pdf, 5, "Agenda 2030: " + ", ".join(goal["delmal"]))
    pdf.set_font("Helvetica", "B", 13)
    pdf.ln(2)
    write(pdf, 7, "En ekonomi i balans (tkr)")
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(text_align="RIGHT", col_widths=(20, 30, 30, 40)) as table:
        table.row(["År", "Budget", "Utfall", _latin("Avvikelse (+ = överskott)")])
        for row in report["ekonomi"]:
            table.row(
                [
                    str(row["ar"]),
                    _number(row["budget_tkr"]),
                    _number(row["utfall_tkr"]),
                    _number(row["avvikelse_tkr"]),
                ]
            )
    pdf.set_font("Helvetica", "B", 13)
    pdf.ln(2)
    write(pdf, 7, "Fordonsflottan")
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(text_align="RIGHT", col_widths=(20, 40, 40)) as table:
        table.row(["År", "Fordon", "Fossilfri andel (%)"])
        for row in report["fordon"]:
            table.row(
                [str(row["ar"]), str(row["antal_fordon"]), _number(row["andel_fossilfria_procent"])]
            )
    pdf.set_font("Helvetica", "B", 13)
    pdf.ln(2)
    write(pdf, 7, "Agenda 2030")
    pdf.set_font("Helvetica", "", 9)
    agenda = report["agenda2030"]
    write(pdf, 5, f"Programmet berör {agenda['mal_berorda']} globala mål och "
          f"{agenda['delmal_berorda']} delmål.")
    for goal in agenda["mal"]:
        write(pdf, 5, f"{goal['sdg_mal']}. {goal['namn']}: {goal['antal_kopplingar']} kopplingar")
    return bytes(pdf.output())
