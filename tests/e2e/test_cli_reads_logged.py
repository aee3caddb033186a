"""The command line reads plans through the gateway as a named principal (ADR 0018): with
``--as`` that user's reach, without it the operator; every read is an access-log record, and a
bulk FHIR export accounts for each plan it discloses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import plantrail

Demo = tuple[str, Path, list[dict[str, Any]]]


def _log(db: str, keys: Path, plan_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(
        plantrail("access-log", "--plan", plan_id, "--json", db=db, keys=keys).stdout
    )
    return found


def test_a_read_names_its_reader_and_a_plan_out_of_reach_is_no_plan(
    demo_store: Demo,
) -> None:
    db, keys, plans = demo_store
    jordan = next(p for p in plans if p["client"] == "Jordan Ellis")
    # ``plantrail demo`` made the demo's users, Marcus Hill (another clinician) among them.

    shown = json.loads(plantrail("show", jordan["plan_id"], "--json", db=db, keys=keys).stdout)
    assert shown["client"]["name"] == "Jordan Ellis"
    refused = plantrail("show", jordan["plan_id"], "--as", "marcus-hill", db=db, keys=keys,
                        check=False)  # fmt: skip
    assert refused.returncode != 0
    assert "Jordan" not in refused.stdout + refused.stderr, "nothing of the plan is shown"
    assert "Traceback" not in refused.stderr

    rows = [r for r in _log(db, keys, jordan["plan_id"]) if r["route"] == "plantrail show"]
    assert [(r["role"], r["action"], r["status"], r["outcome"]) for r in rows] == [
        ("operator", "view:plan", 200, "ok"),
        ("clinician", "view:plan", 404, "denied"),
    ]
    assert rows[0]["user_id"].startswith("cli:")
    assert rows[1]["user_id"] == "marcus-hill"


def test_a_fhir_export_is_one_disclosure_per_plan(demo_store: Demo, tmp_path: Path) -> None:
    db, keys, plans = demo_store
    plantrail("export", "--fhir", str(tmp_path / "fhir"), db=db, keys=keys)
    for plan in plans:
        exported = [
            r for r in _log(db, keys, plan["plan_id"]) if r["route"] == "plantrail export --fhir"
        ]
        assert [(r["action"], r["outcome"]) for r in exported] == [("view:export:fhir", "ok")]
