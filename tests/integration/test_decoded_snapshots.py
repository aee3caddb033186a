"""Reads fold from a decoded snapshot kept in memory and share its measurements with it: every
read must still equal a fold of the plan's events, whatever was read, written or voided before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from plantrail.domain import commands as c
from plantrail.domain.plan import fold
from plantrail.domain.service import PlanService
from plantrail.domain.snapshots import working_copy
from tests.support.clock import FakeClock
from tests.support.plans import build_signed_plan, meta
from tests.support.stores import running_service

INTERVAL = 10


@pytest.fixture
def small_snapshots(store_url: str, key_dir: Path, clock: FakeClock) -> Iterator[PlanService]:
    """Snapshots every ten versions, so a short plan crosses several."""
    with running_service(store_url, key_dir, clock=clock, snapshot_interval=INTERVAL) as svc:
        yield svc


def _scores(service: PlanService, plan_id: UUID, objective: str, count: int) -> list[str]:
    ids = []
    for n in range(count):
        result = service.execute(
            plan_id,
            c.RecordMeasurement(
                instrument="PHQ-9",
                score=16 - n % 8,
                administered_on=date(2026, 3, 2) - timedelta(days=count - n),
                objective_id=objective,
            ),
            meta(),
        )
        assert result.item_id is not None
        ids.append(result.item_id)
    return ids


def _fresh(service: PlanService, plan_id: UUID, version: int | None = None) -> dict[str, object]:
    state = fold(service.events_of(plan_id, lte=version))
    assert state is not None
    return state.model_dump(mode="json")


def test_every_version_reads_as_a_fold_of_its_events(small_snapshots: PlanService) -> None:
    service = small_snapshots
    ids = build_signed_plan(service)
    plan_id = ids["plan_id"]
    scores = _scores(service, plan_id, ids["objective1"], 25)
    latest = service.load(plan_id).version

    # Read every version twice (the second time from the decoded snapshot kept in memory).
    for _ in range(2):
        for version in range(1, latest + 1):
            assert service.load(plan_id, version).model_dump(mode="json") == _fresh(
                service, plan_id, version
            ), f"version {version}"
    assert service.decoded_snapshots.get(plan_id, INTERVAL * (latest // INTERVAL)) is not None

    # Voiding a score that an earlier snapshot holds changes the plan from then on only.
    before = service.load(plan_id)
    voided = scores[3]
    service.execute(
        plan_id,
        c.VoidMeasurement(measurement_id=voided),
        meta(rationale="Scored against the wrong week; re-administered"),
    )
    assert service.load(plan_id).measurements[voided].voided_version == latest + 1
    again = service.load(plan_id, latest)
    assert again.measurements[voided].voided_version is None
    assert before.measurements[voided].voided_version is None
    for version in (latest - 1, latest, latest + 1):
        assert service.load(plan_id, version).model_dump(mode="json") == _fresh(
            service, plan_id, version
        )


def test_a_read_state_changed_by_its_caller_leaves_later_reads_alone(
    small_snapshots: PlanService,
) -> None:
    service = small_snapshots
    ids = build_signed_plan(service)
    plan_id = ids["plan_id"]
    _scores(service, plan_id, ids["objective1"], 12)
    version = service.load(plan_id).version

    first = service.load(plan_id, version)
    first.status = "discharged"
    first.measurements.clear()
    first.objectives.clear()

    assert service.load(plan_id, version).model_dump(mode="json") == _fresh(
        service, plan_id, version
    )


def test_a_working_copy_is_equal_and_independent(small_snapshots: PlanService) -> None:
    service = small_snapshots
    ids = build_signed_plan(service)
    plan_id = ids["plan_id"]
    _scores(service, plan_id, ids["objective1"], 3)
    original = service.load(plan_id)
    expected = original.model_dump(mode="json")

    copy = working_copy(original)
    assert copy.model_dump(mode="json") == expected
    copy.objectives[ids["objective1"]].statement = "changed"
    copy.measurements.clear()
    copy.discharge_criteria.append("changed")
    assert original.model_dump(mode="json") == expected
