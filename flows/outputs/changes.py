"""What changed since the previous release, per dataset and primary key: rows added, removed
and changed. Written into each release as changes.json and CHANGELOG.md."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

SHOWN = 50  # keys listed per kind and dataset; the counts are always complete


def read_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    return header, rows


def diff(previous: bytes | None, current: bytes, key: list[str]) -> dict[str, Any]:
    header, rows = read_rows(current)
    positions = [header.index(name) for name in key]
    now = {tuple(r[p] for p in positions): r for r in rows}
    if previous is None:
        before: dict[tuple, list[str]] = {}
    else:
        old_header, old_rows = read_rows(previous)
        old_positions = [old_header.index(n) for n in key if n in old_header]
        before = {tuple(r[p] for p in old_positions): dict(zip(old_header, r, strict=False))
                  for r in old_rows} if len(old_positions) == len(key) else {}
        before = {k: [v.get(name, "") for name in header] for k, v in before.items()}
    added = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    changed = sorted(k for k in set(now) & set(before) if now[k] != before[k])
    shown = {kind: [dict(zip(key, k, strict=True)) for k in keys[:SHOWN]]
             for kind, keys in (("added", added), ("removed", removed), ("changed", changed))}
    return {"rows": len(now), "added": len(added), "removed": len(removed),
            "changed": len(changed), "keys": shown}


def release_changes(previous_release: Path | None, current: dict[str, bytes],
                    keys: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    found = {}
    for dataset_id, data in current.items():
        old = None
        if previous_release is not None:
            old_path = previous_release / dataset_id / f"{dataset_id}.csv"
            old = old_path.read_bytes() if old_path.is_file() else None
        found[dataset_id] = diff(old, data, keys[dataset_id]) | {"new_dataset": old is None}
    return found


def changelog_markdown(version: str, previous: str | None, changes: dict[str, dict]) -> str:
    lines = [f"# Ändringar i release {version} / changes in release {version}", "",
             f"Jämfört med / compared with: {previous or 'ingen tidigare release / none'}", "",
             "| dataset | rader / rows | tillagda / added | borttagna / removed | ändrade / changed |",
             "|---|---:|---:|---:|---:|"]
    for dataset_id, change in changes.items():
        lines.append(f"| {dataset_id} | {change['rows']} | {change['added']} | "
                     f"{change['removed']} | {change['changed']} |")
    for dataset_id, change in changes.items():
        if previous and (change["added"] or change["removed"] or change["changed"]):
            lines += ["", f"## {dataset_id}", ""]
            for kind in ("added", "removed", "changed"):
                for key in change["keys"][kind]:
                    shown = ", ".join(f"{k}={v}" for k, v in key.items())
                    lines.append(f"- {kind}: {shown}")
                if change[kind] > len(change["keys"][kind]):
                    lines.append(f"- … {change[kind] - len(change['keys'][kind])} more {kind}")
    return "\n".join(lines) + "\n"
