"""The store round-trips a signed plan on both databases and verifies clean."""

from __future__ import annotations

from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.integrity.keys import load_chain_key
from plantrail.projections.integrity.verify import verify
from tests.support.plans import build_signed_plan


def test_signed_plan_round_trips_and_verifies(service: PlanService, key_dir) -> None:  # type: ignore[no-untyped-def]
    ids = build_signed_plan(service)
    state = service.load(ids["plan_id"])
    assert state.status == "active"
    assert state.objectives[ids["objective1"]].label == "Objective 1.1"
    assert state.objectives[ids["objective2"]].label == "Objective 1.2"
    key = load_chain_key(key_dir)
    assert key is not None
    report = verify(recorder_of(service), key)
    assert report.ok, report.problems
    assert report.events_checked == state.version
