"""For random histories with late entries, the store's bitemporal reads agree with plain folds.

- ``as_of`` the recorded time of any event gives the plan at the last version recorded by then
  (the event's own version, or a later one saved in the same instant);
- ``effective_on`` any date gives exactly the fold of the events effective by that date, in
  version order (an independent oracle: no index, no snapshot);
- both combined give the fold of that prefix filtered by that date.

Snapshots are taken every few versions so that the reads' snapshot paths are exercised too.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from plantrail.domain import commands as c
from plantrail.domain.errors import NotFound, PlantrailError
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState, fold
from plantrail.domain.service import PlanService
from tests.support.clock import FakeClock
from tests.support.plans import meta, open_command

STEP = st.tuples(
    st.integers(min_value=0, max_value=8),  # which command
    st.integers(min_value=0, max_value=20),  # how many days before today it took effect
    st.sampled_from([0, 0, 1, 5, 30, 240]),  # minutes until the next command (0: same instant)
    st.integers(min_value=0, max_value=27),  # a score or a pick among items
)


def _run(service: PlanService, plan_id: UUID, command: c.PlanCommand, effective: date) -> None:
    # A refused command (say, effective before the item it revises) stores nothing: skip it.
    with contextlib.suppress(PlantrailError):
        service.execute(plan_id, command, meta(effective_date=effective, rationale="as planned"))


def _step(
    service: PlanService, plan_id: UUID, step: tuple[int, int, int, int], today: date
) -> None:
    kind, back, _, pick = step
    state = service.load(plan_id)
    effective = today - timedelta(days=back)
    objectives = list(state.objectives)
    measurements = [m for m in state.measurements.values() if m.voided_version is None]
    goal = next(iter(state.goals))
    command: c.PlanCommand
    if kind == 0:
        command = c.RecordMeasurement(instrument="PHQ-9", score=pick, administered_on=effective)
    elif kind == 1:
        command = c.AddObjective(goal_id=goal, statement=f"Objective number {pick}")
    elif kind == 2:
        command = c.ReviseObjective(
            objective_id=objectives[pick % len(objectives)], statement=f"Revised wording {pick}"
        )
    elif kind == 3:
        command = c.NoteStrength(text=f"Strength {pick}")
    elif kind == 4:
        command = c.CaptureSignature(
            role="clinician",
            meaning="authored",
            signer_name="Dana Reyes",
            signer_credentials="LCSW",
        )
    elif kind == 5 and measurements:
        command = c.VoidMeasurement(measurement_id=measurements[pick % len(measurements)].id)
    elif kind == 6:
        command = c.AddProblem(statement=f"Problem text {pick}")
    elif kind == 7 and state.status == "active":
        open_review = state.open_review
        if open_review is None:
            command = c.StartReview(reason="scheduled")
        else:
            assessed = [
                c.AssessmentIn(
                    objective_id=o.id, status="met" if o.status == "met" else "partially_met"
                )
                for o in state.objectives.values()
                if o.status != "no_longer_relevant"
            ]
            command = c.CompleteReview(
                review_id=open_review.id, assessments=assessed, progress_summary=f"Summary {pick}"
            )
    else:
        command = c.SetTimeline(estimated_sessions=pick + 1, session_frequency="weekly")
    _run(service, plan_id, command, effective)


def _history(
    service: PlanService, clock: FakeClock, steps: list[tuple[int, int, int, int]]
) -> UUID:
    opened = clock.now.date() - timedelta(days=25)
    plan_id = UUID(service.open_plan(open_command(), meta(effective_date=opened)).plan_id)
    problem = service.execute(
        plan_id, c.AddProblem(statement="Low mood"), meta(effective_date=opened)
    )
    goal = service.execute(
        plan_id,
        c.AddGoal(statement="Feel better", problem_ids=[str(problem.item_id)]),
        meta(effective_date=opened),
    )
    service.execute(
        plan_id,
        c.AddObjective(goal_id=str(goal.item_id), statement="PHQ-9 under 10"),
        meta(effective_date=opened),
    )
    for step in steps:
        _step(service, plan_id, step, clock.now.date())
        clock.advance(minutes=step[2])
    clock.advance(days=1)  # the next example's plan starts on a later clock
    return plan_id


def _dates(events: list[PlanEvent]) -> list[date]:
    days = {e.effective_date for e in events}
    return sorted(
        days | {d - timedelta(days=1) for d in days} | {d + timedelta(days=1) for d in days}
    )


def _effective_on(service: PlanService, plan_id: UUID, **at: Any) -> PlanState | None:
    try:
        return service.load_at(plan_id, **at)
    except NotFound:
        return None


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=18))
def test_bitemporal_reads_agree_with_plain_folds(
    service: PlanService, clock: FakeClock, steps: list[tuple[int, int, int, int]]
) -> None:
    service.snapshot_interval = 7
    plan_id = _history(service, clock, steps)
    events = service.events_of(plan_id)
    event(f"late entries: {any(e.entry_kind == 'delayed_entry' for e in events)}")
    effective = [e.effective_date for e in events]
    event(f"effective order differs from version order: {effective != sorted(effective)}")
    for entry in events:
        by_then = max(e.originator_version for e in events if e.recorded_at <= entry.recorded_at)
        assert by_then >= entry.originator_version
        as_of = service.load_at(plan_id, as_of=entry.recorded_at)
        assert as_of == service.load(plan_id, by_then)
        assert as_of == fold(events[:by_then])
    for day in _dates(events):
        expected = fold(e for e in events if e.effective_date <= day)
        assert _effective_on(service, plan_id, effective_on=day) == expected
    middle = events[len(events) // 2]
    prefix = [e for e in events if e.recorded_at <= middle.recorded_at]
    for day in _dates(events)[::3]:
        expected = fold(e for e in prefix if e.effective_date <= day)
        assert (
            _effective_on(service, plan_id, as_of=middle.recorded_at, effective_on=day) == expected
        )
