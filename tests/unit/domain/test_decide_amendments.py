"""Amendment requests (45 CFR 164.526) through the pure deciders and the fold: the 60-day
deadline and its one extension, the decision (accepted with its revision, or denied on a ground
of the closed list), and the order denial → statement of disagreement → rebuttal."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.content import content_hash
from plantrail.domain.errors import InvalidInput, ItemNotFound, PlanDischargedError, RuleViolation
from plantrail.domain.parsing import parse_command
from plantrail.domain.plan import Amendment
from tests.support.decider import PLAN_START, TODAY, Plan

RECEIVED = TODAY - timedelta(days=2)


def request(plan: Plan, received_on: date = RECEIVED, **fields: Any) -> ev.AmendmentRequested:
    command = c.RequestAmendment(
        concerns=fields.pop("concerns", "Goal 1"),
        item_ids=fields.pop("item_ids", []),
        requested_change="Say that I want to return to work part time, not full time",
        reason="Full time was never my goal",
        received_on=received_on,
        requested_by="Alex Moreno",
    )
    event = plan.add(command, **fields)
    assert isinstance(event, ev.AmendmentRequested)
    return event


def amendment(plan: Plan, amendment_id: str) -> Amendment:
    return plan.state.amendments[amendment_id]


def refused(plan: Plan, command: c.PlanCommand, field: str, reason: str, **meta: Any) -> None:
    version = plan.state.version
    with pytest.raises(RuleViolation) as info:
        plan.run(command, **meta)
    assert info.value.errors[0].field == field
    assert reason in info.value.message
    assert plan.state.version == version


def extend(amendment_id: str, new_due_date: date) -> c.ExtendAmendmentDeadline:
    return c.ExtendAmendmentDeadline(
        amendment_id=amendment_id, new_due_date=new_due_date, reason="The records are off site"
    )


def deny(amendment_id: str) -> c.DenyAmendment:
    return c.DenyAmendment(
        amendment_id=amendment_id,
        denial_basis="accurate_and_complete",
        denial_text="The goal was agreed with you at intake and is recorded as agreed.",
    )


def amended_revision(plan: Plan, goal_id: str) -> int:
    """A revision of the goal labelled an amendment; its version."""
    event = plan.add(
        c.ReviseGoal(goal_id=goal_id, statement="Return to work part time"),
        entry_kind="amendment",
        rationale="Amended at the client's request",
    )
    assert event.entry_kind == "amendment"
    return event.originator_version


# --------------------------------------------------------------------------- the request
def test_a_request_is_recorded_with_its_label_and_its_60_day_deadline() -> None:
    plan = Plan()
    goal = plan.goal()
    event = request(plan, item_ids=[goal, goal])
    assert event.label == "Amendment request 1"
    assert event.item_ids == [goal]
    assert event.effective_date == RECEIVED  # the day the written request arrived
    assert event.entry_kind == "original"
    found = amendment(plan, event.amendment_id)
    assert (found.status, found.due_date, found.original_due_date) == (
        "open",
        RECEIVED + timedelta(days=60),
        RECEIVED + timedelta(days=60),
    )
    assert found.recorded_by == "Dana Reyes"
    assert request(plan).label == "Amendment request 2"


def test_a_request_typed_in_late_is_a_delayed_entry() -> None:
    plan = Plan()
    event = request(plan, received_on=TODAY - timedelta(days=20))
    assert event.entry_kind == "delayed_entry"
    assert amendment(plan, event.amendment_id).due_date == TODAY + timedelta(days=40)


def test_a_request_changes_no_plan_content_and_supersedes_no_signature() -> None:
    plan = Plan()
    plan.goal()
    signature = plan.sign()
    before = content_hash(plan.state)
    request(plan)
    assert content_hash(plan.state) == before
    assert plan.state.signatures[signature.signature_id].status == "current"


@pytest.mark.parametrize(
    ("received_on", "item_ids", "field", "reason"),
    [
        (TODAY + timedelta(days=1), [], "received_on", "is in the future"),
        (PLAN_START - timedelta(days=1), [], "received_on", "before the plan's effective date"),
        (RECEIVED, ["no-such-item"], "item_ids.0", "no-such-item is not an item of this plan"),
    ],
)
def test_a_request_is_refused(
    received_on: date, item_ids: list[str], field: str, reason: str
) -> None:
    plan = Plan()
    command = c.RequestAmendment(
        concerns="Problem 1",
        item_ids=item_ids,
        requested_change="Remove the word 'hopeless'",
        reason="I never said that",
        received_on=received_on,
        requested_by="Alex Moreno",
    )
    refused(plan, command, field, reason)


def test_an_unknown_request_is_not_found() -> None:
    plan = Plan()
    with pytest.raises(ItemNotFound) as info:
        plan.run(deny("nope"))
    assert info.value.errors[0].field == "amendment_id"


def test_a_discharged_plan_takes_a_request_and_every_step_but_acceptance() -> None:
    """The right to amend lasts as long as the record is kept (ADR 0015): a request about a
    discharged plan is recorded, extended, denied and answered; accepting one would need a
    revision, which a discharged plan takes no more, so it stays refused."""
    plan = Plan()
    plan.add(c.DischargePlan(reason="Moved away"))
    event = request(plan)
    aid = event.amendment_id
    plan.add(extend(aid, RECEIVED + timedelta(days=70)))
    with pytest.raises(PlanDischargedError):
        plan.run(c.AcceptAmendment(amendment_id=aid, carried_out_in_version=1, notified="x"))
    with pytest.raises(PlanDischargedError):
        plan.run(c.NoteStrength(text="Still refused: the plan's content is closed"))
    plan.add(deny(aid))
    plan.add(c.FileDisagreementStatement(amendment_id=aid, statement="I disagree."))
    plan.add(c.FileRebuttal(amendment_id=aid, rebuttal="The record stands."))
    done = amendment(plan, aid)
    assert (done.status, done.disagreement_statement, done.rebuttal) == (
        "denied",
        "I disagree.",
        "The record stands.",
    )
    assert plan.state.status == "discharged"


# ------------------------------------------------------------------------ the extension
def test_the_deadline_is_extended_once_by_at_most_30_days() -> None:
    plan = Plan()
    event = request(plan)
    due = RECEIVED + timedelta(days=60)
    refused(plan, extend(event.amendment_id, due), "new_due_date", "must be after the current")
    refused(
        plan,
        extend(event.amendment_id, due + timedelta(days=31)),
        "new_due_date",
        "at most 30 days after",
    )
    extended = plan.add(extend(event.amendment_id, due + timedelta(days=30)))
    assert isinstance(extended, ev.AmendmentDeadlineExtended)
    found = amendment(plan, event.amendment_id)
    assert found.due_date == due + timedelta(days=30)
    assert found.original_due_date == due
    assert found.extension_reason == "The records are off site"
    refused(
        plan,
        extend(event.amendment_id, due + timedelta(days=20)),
        "amendment_id",
        "only one extension is allowed",
    )


def test_the_extension_must_be_given_before_the_due_date() -> None:
    plan = Plan()
    event = request(plan)
    due = RECEIVED + timedelta(days=60)
    plan.now += timedelta(days=61)
    refused(
        plan,
        extend(event.amendment_id, due + timedelta(days=10)),
        "effective_date",
        f"must be given by the due date {due}",
    )
    # ... unless it was given in time and is typed in now (a delayed entry dated in time).
    late = plan.add(
        extend(event.amendment_id, due + timedelta(days=10)),
        effective_date=due - timedelta(days=10),
    )
    assert late.entry_kind == "delayed_entry"


def test_a_decided_request_cannot_be_extended() -> None:
    plan = Plan()
    event = request(plan)
    plan.add(deny(event.amendment_id))
    refused(
        plan,
        extend(event.amendment_id, RECEIVED + timedelta(days=70)),
        "amendment_id",
        "cannot be decided again",
    )


# ------------------------------------------------------------------------- the decision
def test_an_accepted_request_names_the_revision_that_amends_the_plan() -> None:
    plan = Plan()
    goal = plan.goal()
    event = request(plan, item_ids=[goal])
    extended = plan.add(extend(event.amendment_id, RECEIVED + timedelta(days=65)))
    unlabelled = plan.add(c.NoteStrength(text="Keeps every appointment"))

    def accept(version: int) -> c.AcceptAmendment:
        return c.AcceptAmendment(
            amendment_id=event.amendment_id,
            carried_out_in_version=version,
            notified="Alex Moreno (client); Dr. Lee, the referring physician",
        )

    field = "carried_out_in_version"
    refused(plan, accept(plan.state.version + 1), field, "does not exist")
    refused(plan, accept(event.originator_version), field, "not later than the request")
    refused(plan, accept(extended.originator_version), field, "records an amendment request")
    refused(plan, accept(unlabelled.originator_version), field, "is not labelled an amendment")
    version = amended_revision(plan, goal)
    accepted = plan.add(accept(version))
    assert isinstance(accepted, ev.AmendmentAccepted)
    found = amendment(plan, event.amendment_id)
    assert (found.status, found.carried_out_in_version, found.decided_on) == (
        "accepted",
        version,
        TODAY,
    )
    assert found.notified is not None
    assert "Dr. Lee" in found.notified
    refused(plan, deny(event.amendment_id), "amendment_id", "was already accepted")
    refused(plan, accept(version), "amendment_id", "cannot be decided again")


def test_an_earlier_amendment_revision_does_not_carry_out_a_later_request() -> None:
    plan = Plan()
    goal = plan.goal()
    version = amended_revision(plan, goal)
    event = request(plan, received_on=TODAY)
    command = c.AcceptAmendment(
        amendment_id=event.amendment_id, carried_out_in_version=version, notified="The client"
    )
    refused(plan, command, "carried_out_in_version", "not later than the request")


def test_a_denial_gives_a_ground_from_the_closed_list() -> None:
    plan = Plan()
    event = request(plan)
    denied = plan.add(deny(event.amendment_id))
    assert isinstance(denied, ev.AmendmentDenied)
    found = amendment(plan, event.amendment_id)
    assert (found.status, found.denial_basis) == ("denied", "accurate_and_complete")
    refused(plan, deny(event.amendment_id), "amendment_id", "was already denied")


def test_a_ground_outside_the_closed_list_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_command(
            c.DenyAmendment,
            {"amendment_id": "a1", "denial_basis": "we_disagree", "denial_text": "No"},
        )
    assert info.value.errors[0].field == "denial_basis"
    assert "not_created_by_practice" in info.value.errors[0].message


def test_a_late_decision_is_still_recorded() -> None:
    """The deadline is an obligation, not a lock: a late decision is recorded (and the overdue
    finding clears), never refused."""
    plan = Plan()
    event = request(plan)
    plan.now += timedelta(days=75)
    plan.add(deny(event.amendment_id))
    found = amendment(plan, event.amendment_id)
    assert found.decided_on is not None
    assert found.decided_on > found.due_date


def test_a_decision_is_not_dated_before_the_request_was_received() -> None:
    plan = Plan()
    event = request(plan)
    refused(
        plan,
        deny(event.amendment_id),
        "effective_date",
        "before Amendment request 1",
        effective_date=RECEIVED - timedelta(days=1),
    )


# --------------------------------------------------- statement of disagreement, rebuttal
def disagree(amendment_id: str) -> c.FileDisagreementStatement:
    return c.FileDisagreementStatement(
        amendment_id=amendment_id, statement="I never agreed to full-time work."
    )


def rebut(amendment_id: str) -> c.FileRebuttal:
    return c.FileRebuttal(
        amendment_id=amendment_id, rebuttal="The intake note records the client's agreement."
    )


def test_disagreement_follows_a_denial_and_a_rebuttal_follows_the_disagreement() -> None:
    plan = Plan()
    event = request(plan)
    aid = event.amendment_id
    refused(plan, disagree(aid), "amendment_id", "answers a denial")
    refused(plan, rebut(aid), "amendment_id", "no statement of disagreement")
    plan.add(deny(aid))
    refused(plan, rebut(aid), "amendment_id", "no statement of disagreement")
    filed = plan.add(disagree(aid))
    assert isinstance(filed, ev.DisagreementStatementFiled)
    refused(plan, disagree(aid), "amendment_id", "already filed")
    rebuttal = plan.add(rebut(aid))
    assert isinstance(rebuttal, ev.RebuttalFiled)
    refused(plan, rebut(aid), "amendment_id", "already filed")
    found = amendment(plan, aid)
    assert found.disagreement_statement == "I never agreed to full-time work."
    assert found.rebuttal == "The intake note records the client's agreement."
    assert found.versions == [
        event.originator_version,
        found.decided_version,
        filed.originator_version,
        rebuttal.originator_version,
    ]


def test_an_accepted_request_takes_no_statement_of_disagreement() -> None:
    plan = Plan()
    goal = plan.goal()
    event = request(plan)
    version = amended_revision(plan, goal)
    plan.add(
        c.AcceptAmendment(
            amendment_id=event.amendment_id, carried_out_in_version=version, notified="Client"
        )
    )
    refused(plan, disagree(event.amendment_id), "amendment_id", "is accepted")


def test_the_fold_from_scratch_equals_the_running_state() -> None:
    plan = Plan()
    event = request(plan)
    plan.add(extend(event.amendment_id, RECEIVED + timedelta(days=80)))
    plan.add(deny(event.amendment_id))
    plan.add(disagree(event.amendment_id))
    plan.add(rebut(event.amendment_id))
    assert plan.at(plan.state.version).model_dump() == plan.state.model_dump()


def test_a_request_is_not_dated_before_it_was_received() -> None:
    plan = Plan()
    command = c.RequestAmendment(
        concerns="Goal 1",
        requested_change="Part-time work",
        reason="My choice",
        received_on=RECEIVED,
        requested_by="Alex Moreno",
    )
    refused(
        plan,
        command,
        "effective_date",
        f"is before the request was received on {RECEIVED}",
        effective_date=RECEIVED - timedelta(days=1),
    )
