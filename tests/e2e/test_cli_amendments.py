"""``plantrail amendments`` on the demo caseload (SQLite and PostgreSQL): a request and each of
its steps recorded as the plan's clinician through the API's command path, the list with its
statements, the rules refusing bad input with one readable line and nothing stored, and a user
outside the plan getting the unknown plan's answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import plantrail

Store = tuple[str, Path, list[dict[str, str]]]


@pytest.fixture
def casey(demo_store: Store) -> tuple[str, Path, dict[str, str]]:
    db, keys, plans = demo_store  # ``plantrail demo`` made dana-reyes, Casey's clinician
    plan = next(p for p in plans if p["client"] == "Casey Brooks")
    return db, keys, plan


def _listed(db: str, keys: Path, mrn: str, user: str = "dana-reyes") -> list[dict[str, Any]]:
    out = plantrail("amendments", "list", mrn, "--as", user, "--json", db=db, keys=keys).stdout
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def _refused(*args: str, db: str, keys: Path) -> str:
    result = plantrail(*args, db=db, keys=keys, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_a_request_denied_with_disagreement_and_rebuttal(
    casey: tuple[str, Path, dict[str, str]],
) -> None:
    db, keys, plan = casey
    mrn = plan["client_id"]
    assert _listed(db, keys, mrn) == []
    before = _listed(db, keys, "MRN-20417")
    assert before[0]["status"] == "denied"  # the demo's own request on Jordan Ellis's plan
    received = before[0]["received_on"]  # a day inside Casey's plan, in the past
    made = plantrail(
        "amendments", "request", mrn, "--as", "dana-reyes",
        "--concerns", "The problem statement about drinking.",
        "--change", "Say two drinks a night, not four.",
        "--reason", "I never had four.",
        "--received-on", received, "--requested-by", "Casey Brooks (client)",
        db=db, keys=keys,
    ).stdout  # fmt: skip
    assert "recorded Amendment request 1" in made
    (row,) = _listed(db, keys, mrn)
    aid = row["id"]
    assert row["status"] == "open"
    early = _refused(
        "amendments", "rebuttal", mrn, aid, "--as", "dana-reyes", "--text", "Too early",
        db=db, keys=keys,
    )  # fmt: skip
    assert "error:" in early
    bad = _refused(
        "amendments", "deny", mrn, aid, "--as", "dana-reyes", "--basis", "because",
        "--text", "No.", db=db, keys=keys,
    )  # fmt: skip
    assert "denial_basis" in bad
    assert _listed(db, keys, mrn)[0]["status"] == "open", "a refused step stores nothing"
    steps = [
        ("deny", "--basis", "accurate_and_complete", "--text", "The intake notes say four."),
        ("disagreement", "--statement", "I disagree: it was two drinks a night."),
        ("rebuttal", "--text", "The intake note quotes the client saying four."),
    ]
    for name, *options in steps:
        plantrail("amendments", name, mrn, aid, "--as", "dana-reyes", *options, db=db, keys=keys)
    (row,) = _listed(db, keys, mrn)
    assert row["decision"]["denial_basis"] == "accurate_and_complete"
    assert row["disagreement_statement"]["statement"] == "I disagree: it was two drinks a night."
    assert row["rebuttal"]["rebuttal"] == "The intake note quotes the client saying four."
    shown = plantrail("amendments", "list", mrn, "--as", "dana-reyes", db=db, keys=keys).stdout
    assert "statement of disagreement: I disagree: it was two drinks a night." in shown
    again = _refused(
        "amendments", "disagreement", mrn, aid, "--as", "dana-reyes", "--statement", "Twice",
        db=db, keys=keys,
    )  # fmt: skip
    assert "error:" in again
    log = json.loads(plantrail("access-log", "--json", db=db, keys=keys).stdout)
    denials = [e for e in log if e["route"] == "plantrail amendments deny"]
    assert [(e["status"], e["outcome"]) for e in denials] == [(422, "rejected"), (200, "ok")]
    assert denials[-1]["action"] == "DenyAmendment"
    assert all(e["user_id"] == "dana-reyes" and e["method"] == "CLI" for e in denials)


def test_someone_outside_the_plan_is_told_no_such_plan(
    casey: tuple[str, Path, dict[str, str]],
) -> None:
    db, keys, plan = casey
    plantrail("users", "add", "--name", "Lee Stranger", "--role", "clinician", db=db, keys=keys)
    for args in (
        ("list", plan["client_id"], "--as", "lee-stranger"),
        ("request", plan["client_id"], "--as", "lee-stranger", "--concerns", "x", "--change",
         "y", "--reason", "z", "--received-on", "2026-01-01", "--requested-by", "Casey"),
    ):  # fmt: skip
        said = _refused("amendments", *args, db=db, keys=keys)
        assert "no plan" in said.lower() or "not found" in said.lower(), said
    assert _listed(db, keys, plan["client_id"]) == []
    assert "no user 'nobody'" in _refused(
        "amendments", "list", plan["client_id"], "--as", "nobody", db=db, keys=keys
    )


def test_a_request_with_a_terminal_escape_is_refused(
    casey: tuple[str, Path, dict[str, str]],
) -> None:
    """A client's words that would clear a clinician's screen and print a forged result when
    listed are refused at the command, and nothing is stored."""
    db, keys, plan = casey
    mrn = plan["client_id"]
    received = _listed(db, keys, "MRN-20417")[0]["received_on"]
    refused = _refused(
        "amendments", "request", mrn, "--as", "dana-reyes",
        "--concerns", "The problem statement.",
        "--change", "\x1b[2J\x1b[Hplantrail verify: OK",
        "--reason", "I never had four.",
        "--received-on", received, "--requested-by", "Casey Brooks (client)",
        db=db, keys=keys,
    )  # fmt: skip
    assert "control characters" in refused
    assert "\x1b" not in refused
    assert _listed(db, keys, mrn) == []
