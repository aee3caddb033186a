"""Amendment requests in the projections: the plan document (the request, its deadline, its
decision and statements, and the items it concerns), the revision log and the history, the diff
(which they do not disturb) and the finding ``AMENDMENT_OVERDUE``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from plantrail.domain import commands as c
from plantrail.projections.diff import plan_diff
from plantrail.projections.document import plan_document
from plantrail.projections.findings import plan_findings
from plantrail.projections.history import event_history
from plantrail.projections.profile import RuleProfile
from plantrail.projections.revisions import revision_log
from tests.support.histories import PlanBuilder, depression_plan


def requested(b: PlanBuilder, ids: dict[str, str], **fields: Any) -> str:
    return b.add(
        c.RequestAmendment(
            concerns="Objective 1.1",
            item_ids=fields.pop("item_ids", [ids["objective11"]]),
            requested_change="Record that the PHQ-9 at intake was 17, not 19",
            reason="The intake score was copied from my previous episode",
            received_on=fields.pop("received_on", b.today),
            requested_by="Jordan Ellis",
        ),
        **fields,
    )


def overdue(b: PlanBuilder, today: date) -> list[dict[str, Any]]:
    found = plan_findings(b.state, b.events, RuleProfile(), today)
    return [f for f in found if f["code"] == "AMENDMENT_OVERDUE"]


def test_the_document_lists_a_denied_request_with_its_statements() -> None:
    b, ids = depression_plan()
    before = plan_document(b.state, today=b.today)
    assert before["amendments"] == []
    aid = requested(b, ids)
    b.advance(days=3)
    b.run(
        c.ExtendAmendmentDeadline(
            amendment_id=aid,
            new_due_date=b.today + timedelta(days=80),
            reason="The intake records are held by the previous clinic",
        )
    )
    b.advance(days=20)
    b.run(
        c.DenyAmendment(
            amendment_id=aid,
            denial_basis="not_created_by_practice",
            denial_text="The intake score came from the referring clinic's record.",
        )
    )
    b.run(c.FileDisagreementStatement(amendment_id=aid, statement="The score is not mine."))
    b.run(c.FileRebuttal(amendment_id=aid, rebuttal="We have asked the clinic to review it."))
    doc = plan_document(b.state, today=b.today)
    (row,) = doc["amendments"]
    assert row["label"] == "Amendment request 1"
    assert row["status"] == "denied"
    assert row["items"] == [{"id": ids["objective11"], "label": "Objective 1.1"}]
    assert row["extension"]["reason"] == "The intake records are held by the previous clinic"
    assert row["due_date"] == row["extension"]["new_due_date"]
    assert row["decision"]["denial_basis"] == "not_created_by_practice"
    assert row["decision"]["late"] is False
    assert row["disagreement_statement"]["statement"] == "The score is not mine."
    assert row["rebuttal"]["rebuttal"] == "We have asked the clinic to review it."
    assert row["overdue"] is False
    objective = next(o for o in doc["objectives"] if o["id"] == ids["objective11"])
    assert objective["amendment_ids"] == [aid]
    other = next(o for o in doc["objectives"] if o["id"] == ids["objective12"])
    assert other["amendment_ids"] == []
    # Not plan content: neither the hash nor the diff moves.
    assert doc["content_hash"] == before["content_hash"]
    assert plan_diff(b.at(before["version"]), b.state)["changes"] == []


def test_an_accepted_request_names_its_revision_in_the_document_and_the_log() -> None:
    b, ids = depression_plan()
    aid = requested(b, ids)
    (labelled,) = b.run(
        c.ReviseObjective(
            objective_id=ids["objective11"],
            statement="PHQ-9 falls from 17 to under 10 within twelve weeks.",
        ),
        rationale="Amended at the client's request (Amendment request 1)",
        entry_kind="amendment",
    )
    b.run(
        c.AcceptAmendment(
            amendment_id=aid,
            carried_out_in_version=labelled.originator_version,
            notified="Jordan Ellis; Dr. Lee (primary care), who received the plan",
        )
    )
    (row,) = plan_document(b.state, today=b.today)["amendments"]
    assert row["decision"]["carried_out_in_version"] == labelled.originator_version
    assert row["status"] == "accepted"
    log = revision_log(b.events)
    summaries = [e["summary"] for e in log if e["item_id"] == aid]
    assert summaries[0].startswith("Amendment request 1 received")
    assert summaries[1] == (
        f"Amendment request 1 accepted, amended in version {labelled.originator_version}; "
        "notified: “Jordan Ellis; Dr. Lee (primary care), who received the plan”"
    )
    assert all(not e["missing_rationale"] for e in log if e["item_id"] == aid)
    types = [e["type"] for e in event_history(b.events)][-2:]
    assert types == ["ObjectiveRevised", "AmendmentAccepted"]


def test_the_revision_log_words_every_amendment_event() -> None:
    b, ids = depression_plan()
    aid = requested(b, ids)
    b.run(
        c.ExtendAmendmentDeadline(
            amendment_id=aid, new_due_date=b.today + timedelta(days=70), reason="Records off site"
        )
    )
    b.run(
        c.DenyAmendment(
            amendment_id=aid, denial_basis="accurate_and_complete", denial_text="It is accurate."
        )
    )
    b.run(c.FileDisagreementStatement(amendment_id=aid, statement="I disagree."))
    b.run(c.FileRebuttal(amendment_id=aid, rebuttal="We stand by the record."))
    words = [e["summary"] for e in revision_log(b.events) if e["item_id"] == aid]
    due = (b.today + timedelta(days=60)).isoformat()
    assert words[1:] == [
        f"Amendment request 1: deadline extended from {due} to "
        f"{(b.today + timedelta(days=70)).isoformat()}: “Records off site”",
        "Amendment request 1 denied (accurate and complete): “It is accurate.”",
        "Amendment request 1: statement of disagreement filed: “I disagree.”",
        "Amendment request 1: rebuttal filed: “We stand by the record.”",
    ]


def test_the_overdue_finding_appears_past_the_due_date_and_clears_when_decided() -> None:
    b, ids = depression_plan()
    aid = requested(b, ids)
    due = b.today + timedelta(days=60)
    assert overdue(b, due) == []
    (finding,) = overdue(b, due + timedelta(days=1))
    assert finding["severity"] == "error"
    assert (finding["item_id"], finding["label"]) == (aid, "Amendment request 1")
    assert "1 days overdue" in finding["message"]
    b.advance(days=61)
    b.run(
        c.DenyAmendment(
            amendment_id=aid, denial_basis="accurate_and_complete", denial_text="It is accurate."
        )
    )
    assert overdue(b, b.today) == []
    (row,) = plan_document(b.state, today=b.today)["amendments"]
    assert row["decision"]["late"] is True


def test_the_extension_moves_the_overdue_date() -> None:
    b, ids = depression_plan()
    aid = requested(b, ids)
    due = b.today + timedelta(days=60)
    b.run(
        c.ExtendAmendmentDeadline(
            amendment_id=aid, new_due_date=due + timedelta(days=30), reason="Records off site"
        )
    )
    assert overdue(b, due + timedelta(days=30)) == []
    (finding,) = overdue(b, due + timedelta(days=31))
    assert "(extended)" in finding["message"]


def test_a_practice_may_disable_the_overdue_finding() -> None:
    b, ids = depression_plan()
    requested(b, ids)
    profile = RuleProfile(disabled=frozenset({"AMENDMENT_OVERDUE"}))
    found = plan_findings(b.state, b.events, profile, b.today + timedelta(days=90))
    assert "AMENDMENT_OVERDUE" not in {f["code"] for f in found}
