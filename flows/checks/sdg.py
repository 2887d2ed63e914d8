"""Agenda 2030 target codes in a delivered report: parse them ('11.2; 3.6, 4.a') and explain
a code that does not exist, with the nearest valid ones."""

from __future__ import annotations

import difflib
import re
from typing import Any

import pandas as pd

from flows.core.problems import Problem, problem


def targets_by_goal(delmal: list[str]) -> dict[int, list[str]]:
    goals: dict[int, list[str]] = {}
    for code in delmal:
        goals.setdefault(int(code.split(".")[0]), []).append(code)
    return goals


def parse_targets(text: Any) -> list[str]:
    """'11.2; 3.6, 4.a' -> ['11.2', '3.6', '4.a'] (space, comma or semicolon between codes)."""
    if text is None or pd.isna(text):
        return []
    return [code for code in re.split(r"[\s;,]+", str(text).strip()) if code]


def explain_target(code: str, goals: dict[int, list[str]]) -> tuple[str, str] | None:
    """None for a valid target code, else (sv, en): what is wrong and the nearest valid codes."""
    valid = {c for codes in goals.values() for c in codes}
    if code in valid:
        return None
    normalized = re.sub(r"[-_:,/ ]", ".", code.strip().lower())
    if normalized in valid:
        return (f"Skriv delmålet som {normalized} (mål, punkt, delmål).",
                f"Write the target as {normalized} (goal, dot, target).")
    goal = re.match(r"^(\d+)", normalized)
    if goal and int(goal.group(1)) in goals:
        number = int(goal.group(1))
        close = difflib.get_close_matches(normalized, goals[number], n=3, cutoff=0.0)
        listed = ", ".join(goals[number])
        return (f"Delmålet {code} finns inte. Närmast: {', '.join(close)}. "
                f"Mål {number} har delmålen {listed}.",
                f"Target {code} does not exist. Nearest: {', '.join(close)}. "
                f"Goal {number} has the targets {listed}.")
    if goal:
        return (f"Det finns inget globalt mål {goal.group(1)}; målen är 1–17. Skriv t.ex. 11.2.",
                f"There is no goal {goal.group(1)}; the goals are 1–17. Write e.g. 11.2.")
    close = difflib.get_close_matches(normalized, sorted(valid), n=3, cutoff=0.3)
    hint = f" Närmast: {', '.join(close)}." if close else ""
    hint_en = f" Nearest: {', '.join(close)}." if close else ""
    return (f"'{code}' är ingen delmålskod. Skriv mål, punkt och delmål, t.ex. 11.2 eller 4.a.{hint}",
            f"'{code}' is not a target code. Write goal, dot and target, e.g. 11.2 or 4.a.{hint_en}")


def check_targets(file: str, row: int, field: str, text: Any, goals: dict[int, list[str]]
                  ) -> list[Problem]:
    found = []
    for code in parse_targets(text):
        explained = explain_target(code, goals)
        if explained:
            found.append(problem("unknown-sdg-target", file, explained[0], explained[1],
                                 row=row, field=field, value=code))
    return found
