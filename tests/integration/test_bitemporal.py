"""The plan on two time axes, read back from the store: a late-entered score is invisible "as of"
a moment before it was typed in, yet part of the plan "effective on" the day it was taken."""

from __future__ import annotations

from datetime import UTC, date, datetime

from plantrail.domain import commands as c
from plantrail.domain.service import PlanService
from plantrail.projections.document import plan_document
from plantrail.projections.revisions import revision_log
from plantrail.projections.signatures import signature_status
from tests.support.clock import FakeClock
from tests.support.plans import build_signed_plan, meta


def _scores(service: PlanService, plan_id: object, **at: object) -> list[float]:
    state = service.load_at(plan_id, **at)  # type: ignore[arg-type]
    return [m.score for m in state.measurements.values()]


def test_late_entered_score_seen_on_the_clinical_axis_not_the_recorded_one(
    service: PlanService, clock: FakeClock
) -> None:
    ids = build_signed_plan(service)  # signed 2026-03-02
    plan_id = ids["plan_id"]
    clock.advance(days=20)  # 2026-03-22: a PHQ-9 taken on 2026-03-10 is typed in now
    result = service.execute(
        plan_id,
        c.RecordMeasurement(instrument="PHQ-9", score=12, administered_on=date(2026, 3, 10)),
        meta(),
    )
    before_typing = datetime(2026, 3, 15, tzinfo=UTC)

    assert _scores(service, plan_id) == [12]
    assert _scores(service, plan_id, as_of=before_typing) == []  # what the chart showed on 15 March
    assert _scores(service, plan_id, effective_on=date(2026, 3, 12)) == [
        12
    ]  # in effect since 10 March
    assert _scores(service, plan_id, effective_on=date(2026, 3, 9)) == []
    assert _scores(service, plan_id, as_of=before_typing, effective_on=date(2026, 3, 12)) == []
    assert _scores(service, plan_id, version=result.version - 1) == []

    [late] = plan_document(service.load(plan_id))["measurements"]
    assert (late["entry_kind"], late["effective_date"], late["recorded_at"]) == (
        "delayed_entry",
        "2026-03-10",
        "2026-03-22T09:00:00Z",
    )
    entry = revision_log(service.events_of(plan_id))[-1]
    assert (entry["late_entry"], entry["entry_kind"]) == (True, "delayed_entry")


def test_signature_current_as_of_before_a_change_and_superseded_after(
    service: PlanService, clock: FakeClock
) -> None:
    ids = build_signed_plan(service)
    plan_id = ids["plan_id"]
    clock.advance(days=30)
    change = service.execute(
        plan_id,
        c.ReviseObjective(
            objective_id=ids["objective2"], statement="Three planned activities a week"
        ),
        meta(rationale="Four was too many on night shifts"),
    )

    def status(**at: object) -> list[tuple[object, object]]:
        state = service.load_at(plan_id, **at)  # type: ignore[arg-type]
        return [(row["status"], row["superseded_by_version"]) for row in signature_status(state)]

    assert status(as_of=datetime(2026, 3, 20, tzinfo=UTC)) == [("current", None)]
    assert status() == [("superseded", change.version)]
