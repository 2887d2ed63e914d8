"""Words the data uses as values, spelled out once: the statuses an activity can have (the
enum of aktiviteter.status; a test keeps the two equal) and the ASCII column names derived
tables count them in."""

from __future__ import annotations

import unicodedata

ACTIVITY_STATUSES = ("planerad", "pågående", "genomförd", "avbruten")  # in their order


def ascii_name(word: str) -> str:
    """A word as a column name may spell it: 'pågående' -> 'pagaende'."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def status_columns(prefix: str) -> dict[str, str]:
    """Each activity status -> the column counting it: status_columns("antal") gives
    {'planerad': 'antal_planerad', 'pågående': 'antal_pagaende', ...}."""
    return {status: f"{prefix}_{ascii_name(status)}" for status in ACTIVITY_STATUSES}
