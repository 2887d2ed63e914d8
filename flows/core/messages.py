"""One catalogue of user-facing text, Swedish and English side by side.

Every message has a stable key, ``<area>.<name>``, and lives in ``catalogue/<area>.yaml``::

    cli.no-reports:
      sv: "Inga rapporter i {folder}."
      en: "No reports in {folder}."

Code looks text up by key: ``say(key, **params)`` gives both languages (a :class:`Said`, printed
as one bilingual line), ``t(key, lang, **params)`` one of them. Templates get ``t`` bound to
their language and the ``pick`` filter for data that carries both languages. ``check()`` lists
every key whose languages differ in placeholders; a test keeps it empty.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

Lang = Literal["sv", "en"]
LANGUAGES: tuple[Lang, Lang] = ("sv", "en")
CATALOGUE = Path(__file__).with_name("catalogue")


@dataclass(frozen=True)
class Said:
    """A message in both languages. ``str()`` gives the one-line form, Swedish first."""

    sv: str
    en: str

    def __str__(self) -> str:
        return f"{self.sv} / {self.en}"

    def __getitem__(self, lang: str) -> str:
        return self.sv if lang == "sv" else self.en


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every message, read once from ``catalogue/*.yaml``; a key's area is its file's name."""
    messages: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOGUE.glob("*.yaml")):
        for key, texts in (yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
                           or {}).items():
            if key.split(".", 1)[0] != path.stem:
                raise ValueError(f"{path.name}: the key {key!r} must start with {path.stem}.")
            messages[key] = {lang: str(texts.get(lang, "")) for lang in texts}
    return messages


def t(key: str, lang: str, /, **params: Any) -> str:
    """The message ``key`` in ``lang``, with its placeholders filled from ``params``."""
    text = catalogue()[key][lang]
    return text.format(**params) if params or "{" in text else text


def say(key: str, /, **params: Any) -> Said:
    """The message ``key`` in both languages."""
    return Said(t(key, "sv", **params), t(key, "en", **params))


def pick(value: Any, lang: str) -> Any:
    """The ``lang`` side of a value that carries both languages: a :class:`Said`, a mapping
    with ``sv`` and ``en``, or an ``(sv, en)`` pair. Anything else is returned as it is."""
    if isinstance(value, Said):
        return value[lang]
    if isinstance(value, Mapping) and "sv" in value and "en" in value:
        return value[lang]
    if isinstance(value, tuple) and len(value) == 2:
        return value[LANGUAGES.index(lang)]
    return value


def translator(lang: str):
    """``t`` bound to one language, for templates: ``{{ t("portal.home") }}``."""
    def bound(key: str, /, **params: Any) -> str:
        return t(key, lang, **params)
    return bound


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def check() -> list[str]:
    """What is wrong with the catalogue: a key missing a language or with an unknown one, or
    languages that do not take the same placeholders."""
    wrong = []
    for key, texts in catalogue().items():
        if set(texts) != set(LANGUAGES):
            wrong.append(f"{key}: has {sorted(texts)}, needs {list(LANGUAGES)}")
        elif placeholders(texts["sv"]) != placeholders(texts["en"]):
            wrong.append(f"{key}: sv takes {sorted(placeholders(texts['sv']))}, "
                         f"en takes {sorted(placeholders(texts['en']))}")
    return wrong
