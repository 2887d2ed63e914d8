"""Chart geometry computed at build time; templates/charts.html draws it as inline SVG (no
script, no network). Each chart carries its own text alternative."""

from __future__ import annotations

from collections.abc import Callable

# colours with at least 4.5:1 contrast against white text or the white page
STATUS_COLOURS = {"planerad": "#5b6770", "pågående": "#0b5cab", "genomförd": "#1e7b34",
                  "avbruten": "#b3261e"}


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
    return {"width": width, "height": 24, "segments": segments, "text": summary}


def line_chart(points: dict[int, float | None], title: str, unit: str,
               width: int = 320, height: int = 140) -> dict | None:
    values = [(year, value) for year, value in sorted(points.items()) if value is not None]
    if not values:
        return None
    low = min(v for _, v in values)
    high = max(v for _, v in values)
    if high == low:
        low, high = low - 1, high + 1
    left, right, top, bottom = 48, 12, 12, 28
    years = [y for y, _ in values]
    first, last = min(years), max(years)
    span = max(last - first, 1)

    def x(year: int) -> float:
        return round(left + (width - left - right) * (year - first) / span, 1)

    def y(value: float) -> float:
        return round(top + (height - top - bottom) * (high - value) / (high - low), 1)

    dots = [{"x": x(year), "y": y(value), "year": year, "value": value}
            for year, value in values]
    return {"width": width, "height": height, "dots": dots,
            "path": " ".join(f"{d['x']},{d['y']}" for d in dots),
            "axis": {"left": left, "bottom": height - bottom, "right": width - right},
            "low": number_text(low), "high": number_text(high), "y_low": y(low), "y_high": y(high),
            "title": title,
            "text": f"{title}: " + ", ".join(f"{year} {number_text(v)} {unit}" for year, v in values)}


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
                     "negative": value < 0,
                     "label_y": round(zero - size - 4 if value >= 0 else zero - 4, 1)})
    return {"width": width, "height": height, "bars": bars, "zero": round(zero, 1),
            "title": title,
            "text": f"{title}: " + ", ".join(f"{year} {number_text(v)} {unit}" for year, v in values)}


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


