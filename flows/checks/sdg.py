"""Agenda 2030 target codes in a delivered report: parse them ('11.2; 3.6, 4.a') and explain
a code that does not exist, with the nearest valid ones."""

from __future__ import annotations

import difflib
import re
from typing import Any

import pandas as pd

from flows.core.messages import say
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


def explain_target(code: str, goals: dict[int, list[str]]) -> tuple[str, dict[str, Any]] | None:
    """None for a valid target code, else what is wrong and the nearest valid codes: the key
    of the message (problem.unknown-sdg-target.*) and its parameters."""
    valid = {c for codes in goals.values() for c in codes}
    if code in valid:
        return None
    normalized = re.sub(r"[-_:,/ ]", ".", code.strip().lower())
    if normalized in valid:
        return "problem.unknown-sdg-target.spelling", {"target": normalized}
    goal = re.match(r"^(\d+)", normalized)
    if goal and int(goal.group(1)) in goals:
        number = int(goal.group(1))
        close = difflib.get_close_matches(normalized, goals[number], n=3, cutoff=0.0)
        return "problem.unknown-sdg-target.not-in-goal", {
            "code": code, "nearest": ", ".join(close), "goal": number,
            "targets": ", ".join(goals[number])}
    if goal:
        return "problem.unknown-sdg-target.no-goal", {"goal": goal.group(1)}
    close = difflib.get_close_matches(normalized, sorted(valid), n=3, cutoff=0.3)
    nearest = say("checks.nearest", codes=", ".join(close)) if close else ""
    return "problem.unknown-sdg-target.not-a-code", {"code": code, "nearest": nearest}


def check_targets(file: str, row: int, field: str, text: Any, goals: dict[int, list[str]]
                  ) -> list[Problem]:
    found = []
    for code in parse_targets(text):
        explained = explain_target(code, goals)
        if explained:
            found.append(problem("unknown-sdg-target", file, *explained, row=row, field=field, value=code))
    return found
