"""The rebuild's fast paths give what the full projections give: the verdict-only fold equals
the review history's verdicts, the flagged revision-log entries equal the log's flags, the
remembered DeepDiff explanation equals a fresh one, decoding equals the mapper's, and rows
split between this process and a helper equal the rows computed in one."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import date
from typing import Any

import pytest

from plantrail.domain import commands as c
from plantrail.domain.persistence import PlanEventMapper, decode_event
from plantrail.domain.plan import fold
from plantrail.projections import caseload, copy_forward
from plantrail.projections.findings import scan_plan
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import judged_reviews, review_history
from plantrail.projections.revisions import revision_log
from tests.support.histories import PlanBuilder, complete_review, depression_plan
from tests.support.plans import SUPERVISOR


def _eventful_plan() -> PlanBuilder:
    """A plan with every kind of review verdict and every revision-log flag findings read."""
    b, ids = depression_plan()
    b.advance(days=30)
    complete_review(b, "Some progress.", {ids["objective11"]: "not_met"})
    b.advance(days=30)
    complete_review(b, "Some progress.", {ids["objective11"]: "not_met"})  # copied forward
    [revision] = b.run(
        c.ReviseObjective(objective_id=ids["objective12"], statement="Three activities a week."),
        rationale="x",
    )
    b.events[-1] = revision.model_copy(update={"rationale": None})  # as if imported
    [asked] = b.run(
        c.ReviseObjective(objective_id=ids["objective21"], statement="Safety plan by March."),
        rationale="Sooner",
    )
    b.run(
        c.RecordRationale(
            text="Why sooner?", explains_version=asked.originator_version, kind="rationale_request"
        ),
        actor=SUPERVISOR,
    )
    b.advance(days=30)
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=15, administered_on=date(2026, 1, 20)))
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=14, administered_on=date(2026, 1, 21)))
    b.run(
        c.RecordRationale(
            text="Paper form found late.", explains_version=b.events[-1].originator_version
        )
    )
    complete_review(b, "Objective revised.", {ids["objective21"]: "met"})  # updated
    return b


@pytest.fixture(scope="module")
def plan() -> PlanBuilder:
    return _eventful_plan()


def test_verdict_only_fold_equals_the_review_history(plan: PlanBuilder) -> None:
    state, judged = judged_reviews(plan.events)
    history = review_history(plan.events)
    assert state == fold(plan.events)
    assert [j.event.review_id for j in judged] == [h["id"] for h in history]
    assert [j.verdict for j in judged] == [h["copy_forward"] for h in history]
    assert {j.verdict["verdict"] for j in judged} == {"updated", "copied_forward"}
    assert all(j.current.state is None for j in judged), "no state copies for verdicts only"


@pytest.mark.parametrize("late_entry_days", [7, 60])
def test_flagged_entries_equal_the_revision_log_flags(
    plan: PlanBuilder, late_entry_days: int
) -> None:
    scan = scan_plan(plan.events, RuleProfile(late_entry_days=late_entry_days))
    expected = [
        {
            "version": e["version"],
            "summary": e["summary"],
            "item_id": e["item_id"],
            "label": e["label"],
            "recorded_at": e["recorded_at"],
            "effective_date": e["effective_date"],
            "missing_rationale": e["missing_rationale"],
            "rationale_requested": e["rationale_requested"],
            "unexplained_late_entry": e["late_entry"] and not e["rationales"],
        }
        for e in revision_log(plan.events, late_entry_days=late_entry_days)
        if e["missing_rationale"]
        or e["rationale_requested"]
        or (e["late_entry"] and not e["rationales"])
    ]
    assert scan.flagged == expected
    flags = {k for e in expected for k in e if e[k] is True}
    if late_entry_days == 7:
        assert flags == {"missing_rationale", "rationale_requested", "unexplained_late_entry"}


def test_remembered_explanation_equals_a_fresh_one_and_is_a_copy() -> None:
    before = {"goal": "Goal 1", "statement": "Four a week.", "measure": None, "status": "open"}
    after = {
        "goal": "Goal 1",
        "statement": "Three a week.",
        "measure": {"instrument": "PHQ-9", "baseline": 17.0, "target": 9.0},
        "status": "open",
    }
    fresh = copy_forward._explain("objectives[Objective 1.2]", before, after)
    first = copy_forward._explained("objectives[Objective 1.2]", before, after)
    assert first == fresh
    assert [list(c["after"] or {}) for c in first] == [list(c["after"] or {}) for c in fresh]
    first[0]["path"] = "mutated"
    assert copy_forward._explained("objectives[Objective 1.2]", before, after) == fresh


def test_decode_event_equals_the_mapper(plan: PlanBuilder) -> None:
    mapper = PlanEventMapper.__new__(PlanEventMapper)  # its transcoder is not used for events
    for event in plan.events:
        stored = mapper.to_stored_event(event)
        decoded = decode_event(
            stored.originator_id, stored.originator_version, stored.topic, stored.state
        )
        assert decoded == mapper.to_domain_event(stored) == event


class _Idle(Executor):
    """A helper that never starts its work: every piece can be taken back."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return Future()


class _Eager(Executor):
    """A helper that finishes each piece at once: none can be taken back."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.mark.parametrize("helper", [_Idle(), _Eager()], ids=["taken-back", "helper-done"])
def test_rows_split_with_a_helper_equal_the_rows_computed_alone(helper: Executor) -> None:
    mapper = PlanEventMapper.__new__(PlanEventMapper)
    plans = []
    for n in range(9):
        b = _eventful_plan() if n % 3 == 0 else depression_plan()[0]
        stored = [mapper.to_stored_event(e) for e in b.events]
        plans.append((b.plan_id, [(s.originator_version, s.topic, s.state) for s in stored]))
    profile, today = RuleProfile(), date(2026, 6, 1)
    alone = caseload._rows_of(plans, profile, today)
    assert [plan_id for plan_id, _ in alone] == [plan_id for plan_id, _ in plans]
    assert caseload._compute(plans, profile, today, helper) == alone
