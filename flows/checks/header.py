"""A delivered header row -> the report type's fields: labels are matched through names,
titles and aliases (case, spacing and å/ä/ö do not matter). An unknown, duplicate or missing
required column makes the whole file wait: one problem per column."""

from __future__ import annotations

from frictionless import Schema

from flows.core.labels import label_index, normalize_label
from flows.core.problems import Problem, problem


def map_header(file: str, header: list[str], schema: Schema) -> tuple[list[str], list[Problem]]:
    """Delivered labels -> field names through names, titles and aliases (case, spacing and
    å/ä/ö do not matter). Any unknown, duplicate or missing required column makes the whole
    file wait: one problem per column."""
    names = schema.field_names
    by_label = label_index(schema)
    problems: list[Problem] = []
    present: list[str] = []
    for label in header:
        if not label.strip():
            continue  # a column without a label: drop_empty_columns decides
        name = by_label.get(normalize_label(label))
        if name is None:
            problems.append(problem(
                "extra-label", file, "problem.extra-label.unknown",
                {"label": label, "names": ", ".join(names)}, field=str(label), value=label))
        elif name in present:
            problems.append(problem("duplicate-label", file, "problem.duplicate-label.twice",
                                    {"column": name}, field=name, value=label))
        else:
            present.append(name)
    for field in schema.fields:
        if field.name not in present and field.required:
            problems.append(problem("missing-label", file, "problem.missing-label.required",
                                    {"column": field.name, "title": field.title},
                                    field=field.name))
    return present, problems
