"""Chart geometry computed at build time; templates/charts.html draws it as inline SVG (no
script, no network). Each chart carries its own text alternative."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flows.core.values import json_value
from flows.core.vocabulary import ACTIVITY_STATUSES

# colours with at least 4.5:1 contrast against white text or the white page
STATUS_COLOURS = dict(zip(ACTIVITY_STATUSES, ("#5b6770", "#0b5cab", "#1e7b34", "#b3261e"), strict=True))



def year_points(years: Iterable[Any], values: Iterable[Any]) -> dict[int, Any]:
    """A chart's points, {year: value}, with values as JSON shows them (None for a gap)."""
    return {int(year): json_value(value) for year, value in zip(years, values, strict=True)}

def status_bar(counts: dict[str, int], label: Callable[[str], str], width: int = 320) -> dict:
    """A stacked bar of activities by status; ``label`` names a status in the page's language."""
    total = sum(counts.values())
    x, segments = 0.0, []
    for status, count in counts.items():
        share = width * count / total if total else 0
        if count:
            segments.append({"x": round(x, 1), "width": round(share, 1), "count": count,
                             "colour": STATUS_COLOURS[status], "label": label(status)})
        x += share
    summary = ", ".join(f"{label(s)} {c}" for s, c in counts.items()) or "–"
    return {"width": width, "height": 24, "segments": segments, "text": summary,
            "counts": dict(counts)}


@dataclass(frozen=True)
class Series:
    """One line of a line chart: ``key`` names its CSV column (``varde``), ``label`` its
    legend entry, ``points`` its value by year (None where there is none)."""

    key: str
    label: str
    points: Mapping[int, float | None]


@dataclass(frozen=True)
class Target:
    """A horizontal target line: its value and its legend entry."""

    value: float
    label: str


# line styles told apart by dash as well as colour (not by colour alone); >= 3:1 on white
LINE_STYLES = [("#0b5cab", ""), ("#5b6770", "6 3"), ("#8a4b08", "2 3"), ("#6b3fa0", "8 3 2 3")]
TARGET_STYLE = ("#1e7b34", "4 4")


def line_chart(series: Series | list[Series], title: str, unit: str, target: Target | None = None,
               width: int = 320, height: int = 140) -> dict | None:
    """A line per series on one scale, with an optional target line; a legend when there is
    more than one line. None when no series has a value."""
    lines = [series] if isinstance(series, Series) else list(series)
    valued = [[(year, v) for year, v in sorted(s.points.items()) if v is not None] for s in lines]
    found = [v for values in valued for _, v in values]
    if not found:
        return None
    low, high = min(found + ([target.value] if target else [])), max(
        found + ([target.value] if target else []))
    if high == low:
        low, high = low - 1, high + 1
    legend = legend_of(lines, target)
    left, right, top, bottom = 48, 12, 12, 28
    plot_bottom = height - bottom
    years = sorted({y for values in valued for y, _ in values})
    first, span = years[0], max(years[-1] - years[0], 1)

    def x(year: int) -> float:
        return round(left + (width - left - right) * (year - first) / span, 1)

    def y(value: float) -> float:
        return round(top + (plot_bottom - top) * (high - value) / (high - low), 1)

    drawn = []
    for i, (line, values) in enumerate(zip(lines, valued, strict=True)):
        colour, dash = LINE_STYLES[i % len(LINE_STYLES)]
        dots = [{"x": x(year), "y": y(v), "year": year, "value": v} for year, v in values]
        drawn.append({"key": line.key, "label": line.label, "colour": colour, "dash": dash,
                      "dots": dots, "path": " ".join(f"{d['x']},{d['y']}" for d in dots)})
    return {"width": width, "height": height + 16 * len(legend), "lines": drawn,
            "years": [{"x": x(year), "year": year} for year in years],
            "axis": {"left": left, "bottom": plot_bottom, "right": width - right},
            "low": number_text(low), "high": number_text(high), "y_low": y(low), "y_high": y(high),
            "target": {"y": y(target.value), "value": target.value, "label": target.label,
                       "colour": TARGET_STYLE[0], "dash": TARGET_STYLE[1]} if target else None,
            "legend": [{"label": label, "colour": colour, "dash": dash, "y": height + 16 * i + 4}
                       for i, (label, colour, dash) in enumerate(legend)],
            "title": title, "text": line_text(title, unit, lines, valued, target)}


def legend_of(lines: list[Series], target: Target | None) -> list[tuple[str, str, str]]:
    """(label, colour, dash) for each line and the target; none for a lone line."""
    legend = [(s.label, *LINE_STYLES[i % len(LINE_STYLES)]) for i, s in enumerate(lines)
              ] + ([(target.label, *TARGET_STYLE)] if target else [])
    return legend if len(legend) > 1 else []


def line_text(title: str, unit: str, lines: list[Series], valued: list[list[tuple[int, float]]],
              target: Target | None) -> str:
    """The chart's text alternative: every value, named by its line when there are several."""
    def values(found: list[tuple[int, float]]) -> str:
        return ", ".join(f"{year} {number_text(v)} {unit}" for year, v in found)
    if len(lines) == 1 and target is None:
        return f"{title}: {values(valued[0])}"
    parts = [f"{line.label}: {values(found) or '–'}" for line, found in zip(lines, valued,
                                                                            strict=True)]
    if target:
        parts.append(f"{target.label}: {number_text(target.value)} {unit}")
    return f"{title}: " + "; ".join(parts)


def bar_chart(points: dict[int, float | None], title: str, unit: str, width: int = 320,
              height: int = 140) -> dict | None:
    values = [(year, value) for year, value in sorted(points.items()) if value is not None]
    if not values:
        return None
    top_value = max(max(abs(v) for _, v in values), 1e-9)
    left, bottom, top = 12, 28, 18
    slot = (width - left) / len(values)
    zero = height - bottom if all(v >= 0 for _, v in values) else top + (height - top - bottom) / 2
    scale = (zero - top) / top_value
    bars = []
    for i, (year, value) in enumerate(values):
        size = abs(value) * scale
        bars.append({"x": round(left + i * slot + slot * 0.2, 1), "width": round(slot * 0.6, 1),
                     "y": round(zero - size if value >= 0 else zero, 1),
                     "height": round(max(size, 1), 1), "year": year, "label": number_text(value),
                     "value": value,
                     "negative": value < 0,
                     "label_y": round(zero - size - 4 if value >= 0 else zero - 4, 1)})
    return {"width": width, "height": height, "bars": bars, "zero": round(zero, 1),
            "title": title,
            "text": f"{title}: " + ", ".join(f"{year} {number_text(v)} {unit}" for year, v in values)}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    """RFC 4180 CSV as the release's other CSV files: UTF-8, comma, CRLF, a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return buffer.getvalue().encode("utf-8")


def chart_csv(chart: dict) -> bytes:
    """A chart's data: ``ar`` and a column per line (``mal`` for a target) for a line chart,
    ``ar,varde`` for a bar chart, ``status,antal`` for a status bar."""
    if "counts" in chart:
        return csv_bytes(["status", "antal"], [[s, n] for s, n in chart["counts"].items()])
    if "bars" in chart:
        return csv_bytes(["ar", "varde"], [[b["year"], b["value"]] for b in chart["bars"]])
    by_year = [{d["year"]: d["value"] for d in line["dots"]} for line in chart["lines"]]
    target = chart["target"]
    header = ["ar", *(line["key"] for line in chart["lines"]), *(["mal"] if target else [])]
    return csv_bytes(header, [[y["year"], *(found.get(y["year"]) for found in by_year),
                               *([target["value"]] if target else [])] for y in chart["years"]])


def number_text(value: float) -> str:
    """Swedish style: space thousands, decimal comma, one decimal unless whole."""
    text = f"{value:,.1f}".replace(",", " ").replace(".", ",")
    return text[:-2] if text.endswith(",0") else text


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with the background (WCAG luminance)."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(background[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


