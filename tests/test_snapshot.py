"""The published contract as a snapshot: a renamed, retyped or dropped column is a visible diff.
After an intended change: OPENDATA_UPDATE_SNAPSHOTS=1 make test, and review the diff."""

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "published_fields.json"


def current(register) -> dict:
    return {dataset_id: {"kind": register.datasets[dataset_id].kind,
                         "primaryKey": list(register.schema(dataset_id).primary_key),
                         "fields": [f"{f.name}:{f.type}"
                                    for f in register.published_schema(dataset_id).fields]}
            for dataset_id in register.datasets}


def test_published_resources_and_fields_match_the_snapshot(register):
    now = current(register)
    if os.environ.get("OPENDATA_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(now, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert json.loads(SNAPSHOT.read_text("utf-8")) == now, (
        "The published contract changed: if intended, run OPENDATA_UPDATE_SNAPSHOTS=1 make test "
        "and say so in CHANGELOG.md")
