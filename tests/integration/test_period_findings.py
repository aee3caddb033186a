"""Findings for a past instant, a clinical date and a period, and the audit lines for dates of
service, over histories stored in each backend: the pure projections agree with the store's own
bitemporal reads (``load_at``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from plantrail.domain import commands as c
from plantrail.domain.service import PlanService
from plantrail.projections.findings import plan_findings
from plantrail.projections.period_findings import findings_on, period_findings, recorded_by
from plantrail.projections.profile import RuleProfile
from plantrail.projections.service_dates import ServiceDate, service_date_lines
from tests import support
from tests.support.clock import FakeClock, at
from tests.support.plans import CLINICIAN, meta, open_command

PROFILE = RuleProfile()


def copy_forward_history(service: PlanService, clock: FakeClock) -> dict[str, Any]:
    return support.copy_forward_history(service, clock, open_command("MRN-7001"), CLINICIAN)


def codes(found: list[dict[str, Any]]) -> set[str]:
    return {f["code"] for f in found}


def test_a_cleared_copy_forward_is_still_reported_for_the_period_it_held(
    service: PlanService, clock: FakeClock
) -> None:
    plan = copy_forward_history(service, clock)
    events = service.events_of(plan["plan_id"])
    assert "REVIEW_COPIED_FORWARD" not in codes(
        findings_on(events, PROFILE, today=clock.now.date())
    )

    period = period_findings(events, PROFILE, date(2026, 4, 1), date(2026, 7, 31))

    copied = [f for f in period if f["code"] == "REVIEW_COPIED_FORWARD"]
    assert [(f["item_id"], f["dates"]) for f in copied] == [
        (plan["reviews"][date(2026, 5, 1)], [{"from": "2026-05-01", "to": "2026-07-29"}]),
        (plan["reviews"][date(2026, 7, 30)], [{"from": "2026-07-30", "to": "2026-07-31"}]),
    ]


def test_findings_on_a_date_and_as_of_an_instant_match_the_stores_bitemporal_reads(
    service: PlanService, clock: FakeClock
) -> None:
    plan = copy_forward_history(service, clock)
    plan_id = plan["plan_id"]
    events = service.events_of(plan_id)
    for day in (date(2026, 3, 5), date(2026, 6, 1), date(2026, 9, 1)):
        state = service.load_at(plan_id, effective_on=day)
        in_effect = [e for e in events if e.effective_date <= day]
        expected = plan_findings(state, in_effect, PROFILE, day)
        assert findings_on(events, PROFILE, effective_on=day, today=day) == expected
    moment = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    recorded = recorded_by(events, moment)
    assert recorded[-1].originator_version == service.load_at(plan_id, as_of=moment).version
    june = findings_on(recorded, PROFILE, today=moment.date())
    assert "REVIEW_COPIED_FORWARD" in codes(june)


def test_dates_of_service_before_the_plan_before_the_signature_and_covered(
    service: PlanService, clock: FakeClock
) -> None:
    plan = copy_forward_history(service, clock)
    events = service.events_of(plan["plan_id"])
    dates = [
        ServiceDate(date(2026, 2, 23), ("90791",)),
        ServiceDate(date(2026, 3, 5), ("90837",)),
        ServiceDate(date(2026, 3, 16), ("90837",)),
    ]
    before, unsigned, covered = service_date_lines([events], dates, PROFILE)
    assert before["plan_id"] is None
    assert before["summary"].startswith("2026-02-23 (90791): no plan in effect")
    assert unsigned["plan_id"] == str(plan["plan_id"])
    assert unsigned["clinician_signature"]["signed"] is False
    assert "(signed 2026-03-09)" in unsigned["summary"]
    assert unsigned["ok"] is False
    assert covered["ok"] is True, covered["summary"]
    assert covered["clinician_signature"]["signed_on"] == "2026-03-09"
    assert covered["client_signature"]["signed_on"] == "2026-03-10"


def test_a_year_of_a_long_plan_is_evaluated_quickly(service: PlanService, clock: FakeClock) -> None:
    """A plan with a score most days for a year, some of them entered days late: the period
    is folded once per day the plan changed, never once per event per day."""
    plan = copy_forward_history(service, clock)
    plan_id = plan["plan_id"]
    start = date(2026, 11, 3)
    for n in range(200):
        at(clock, start + timedelta(days=n))
        late = n % 9 == 4
        day = clock.now.date() - timedelta(days=3 if late else 0)
        service.execute(
            plan_id,
            c.RecordMeasurement(instrument="GAD-7", score=n % 21, administered_on=day),
            meta(effective_date=day),
        )
    events = service.events_of(plan_id)
    began = datetime.now(UTC)
    period_findings(events, PROFILE, date(2026, 3, 1), date(2027, 2, 28))
    assert datetime.now(UTC) - began < timedelta(seconds=5)
