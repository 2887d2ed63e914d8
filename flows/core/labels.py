"""Column labels as people type them -> field names, through the names, titles and aliases that
each schema declares (field property ``aliases``). Case, spacing, punctuation and å/ä/ö/é
variants do not matter: 'Rapport år', 'RAPPORTÅR' and 'rapportar' are the same label."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from frictionless import Schema


def normalize_label(label: Any) -> str:
    text = unicodedata.normalize("NFKD", str(label).strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))  # å->a, ä->a, ö->o, é->e
    return re.sub(r"[^a-z0-9]+", "", text)


def label_index(schema: Schema) -> dict[str, str]:
    """normalized label -> field name, for every name, Swedish and English title and alias."""
    index: dict[str, str] = {}
    for field in schema.fields:
        descriptor = field.to_descriptor()
        labels = [field.name, field.title, (descriptor.get("en") or {}).get("title"),
                  *descriptor.get("aliases", [])]
        for label in labels:
            if label:
                index.setdefault(normalize_label(label), field.name)
    return index
