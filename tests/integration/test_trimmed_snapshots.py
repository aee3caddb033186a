"""Only a plan's newest snapshot keeps the shared part (measurements, reviews, rationales, entry
kinds); the store trims each earlier one to its main part when it writes the next (ADR 0017).
Whatever order versions are read in, from whichever decoded state, every read must equal a
fold of the plan's events; the integrity check must still catch an altered snapshot; and
snapshots written before (format 1, whole) must still be read. SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from sqlalchemy import delete, select, update

from plantrail.domain import commands as c
from plantrail.domain import snapshots as snap
from plantrail.domain.plan import fold
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.integrity.keys import load_keys
from plantrail.projections.integrity.verify import verify
from plantrail.projections.store.schema import snapshots
from tests.benchmarks import data
from tests.support.stores import running_service

INTERVAL = 10


@pytest.fixture
def plan(store_url: str, key_dir: Path) -> Iterator[tuple[PlanService, UUID]]:
    """A plan of about 230 events through the service (snapshots every ten versions): weekly
    scores (some entered late, some voided long after), rationales, and a review every sixth
    week (a revision before every other one), so reviews and voids straddle snapshots."""
    with running_service(store_url, key_dir, snapshot_interval=INTERVAL) as service:
        runner = data.EngineRunner(service, data.SimulatedClock())
        script = data.write_plan(runner, 200, 5, review_every=6)
        assert script.plan_id is not None
        # Void scores that many snapshots hold, then go on: later snapshots see them voided.
        for index in (3, 40, 90):
            script.do(
                c.VoidMeasurement(measurement_id=script.measurements[index]),
                rationale="Entered against the wrong objective.",
            )
        for week in range(200, 230):
            script.score(week)
        yield service, script.plan_id


def _rows(service: PlanService, plan_id: UUID) -> dict[int, bytes]:
    with recorder_of(service).engine.connect() as conn:
        found = conn.execute(
            select(snapshots.c.version, snapshots.c.state)
            .where(snapshots.c.plan_id == plan_id)
            .order_by(snapshots.c.version)
        )
        return {int(v): bytes(s) for v, s in found}


def _folded(service: PlanService, plan_id: UUID, version: int) -> dict[str, Any]:
    state = fold(service.events_of(plan_id, lte=version))
    assert state is not None
    return state.model_dump(mode="json")


def _run(service: PlanService, statement: Any) -> None:
    with recorder_of(service).engine.begin() as conn:
        conn.execute(statement)


def test_only_the_newest_snapshot_keeps_the_shared_part(
    plan: tuple[PlanService, UUID],
) -> None:
    service, plan_id = plan
    rows = _rows(service, plan_id)
    versions = sorted(rows)
    assert len(versions) >= 20
    newest = rows[versions[-1]]
    whole = snap.decode(newest)
    assert whole is not None
    assert whole.complete
    assert whole.state.model_dump(mode="json") == _folded(service, plan_id, versions[-1])
    final = service.load(plan_id)
    assert len(final.measurements) > 100
    assert len(final.reviews) >= 8
    for version in versions[:-1]:
        trimmed = snap.decode(rows[version])
        assert trimmed is not None
        assert not trimmed.complete, version
        assert b"\n" not in rows[version]
        # The trimmed snapshot holds no item of the shared part, so it stays small.
        assert trimmed.state.measurements == {}
        assert trimmed.state.reviews == {}
        assert len(rows[version]) < len(newest) / 5


def test_every_version_reads_as_its_fold_in_any_order(plan: tuple[PlanService, UUID]) -> None:
    service, plan_id = plan
    latest = service.load(plan_id).version
    expected = {v: _folded(service, plan_id, v) for v in range(1, latest + 1)}
    # Some reviews must have been open at a snapshot and completed after it, and some scores
    # voided after a snapshot that holds them: the states a trimmed snapshot is completed to.
    rows = _rows(service, plan_id)
    open_at_snapshot = [
        v
        for v in rows
        if any(r["completed_version"] is None for r in expected[v]["reviews"].values())
    ]
    voided_later = [
        v
        for v in rows
        if any(
            m["voided_version"] is None
            and expected[latest]["measurements"][m["id"]]["voided_version"] is not None
            for m in expected[v]["measurements"].values()
        )
    ]
    assert open_at_snapshot
    assert voided_later

    orders = [
        list(range(1, latest + 1)),
        list(range(latest, 0, -1)),
        random.Random(7).sample(range(1, latest + 1), latest),
    ]
    for order in orders:
        service.decoded_snapshots.clear()
        for version in order:
            assert service.load(plan_id, version).model_dump(mode="json") == expected[version], (
                f"version {version}"
            )
    # A small cache: completed states are evicted and re-derived, the whole one re-decoded.
    service.decoded_snapshots.clear()
    service.decoded_snapshots.maxsize = 2
    for version in random.Random(8).sample(range(1, latest + 1), latest):
        assert service.load(plan_id, version).model_dump(mode="json") == expected[version]


def test_a_read_does_not_change_what_later_reads_see(plan: tuple[PlanService, UUID]) -> None:
    """Completed states share items with the whole state: folding into a read's copy must
    leave both alone (the items are frozen; a fold replaces them)."""
    service, plan_id = plan
    latest = service.load(plan_id).version
    head = service.load(plan_id).model_dump(mode="json")
    for version in range(latest - 3 * INTERVAL, latest):
        service.load(plan_id, version)
    assert service.load(plan_id).model_dump(mode="json") == head
    assert service.load(plan_id, latest - 25).model_dump(mode="json") == _folded(
        service, plan_id, latest - 25
    )


def test_without_the_newest_snapshot_reads_fold_from_the_events(
    plan: tuple[PlanService, UUID],
) -> None:
    """An operator may delete a snapshot (it is a cache): the trimmed ones before it can no
    longer be completed from the store, so reads fold the events instead, and stay right."""
    service, plan_id = plan
    versions = sorted(_rows(service, plan_id))
    _run(
        service,
        delete(snapshots).where(
            (snapshots.c.plan_id == plan_id) & (snapshots.c.version == versions[-1])
        ),
    )
    service.decoded_snapshots.clear()
    for version in (versions[3], versions[3] + 4, versions[-2] + 1):
        assert service.load(plan_id, version).model_dump(mode="json") == _folded(
            service, plan_id, version
        )


def test_a_format_1_snapshot_is_still_read(plan: tuple[PlanService, UUID]) -> None:
    """Stores written before format 2 hold whole snapshots as one JSON object."""
    service, plan_id = plan
    versions = sorted(_rows(service, plan_id))
    old = versions[-1]
    state = fold(service.events_of(plan_id, lte=old))
    assert state is not None
    format_1 = orjson.dumps({"format": 1, "state": state.model_dump(mode="json")})
    _run(
        service,
        update(snapshots)
        .where((snapshots.c.plan_id == plan_id) & (snapshots.c.version == old))
        .values(state=format_1),
    )
    service.decoded_snapshots.clear()
    for version in (versions[2], old, old + 3):
        expected = _folded(service, plan_id, version)
        assert service.load(plan_id, version).model_dump(mode="json") == expected


def test_the_integrity_check_reads_trimmed_snapshots(
    plan: tuple[PlanService, UUID], key_dir: Path
) -> None:
    service, plan_id = plan
    key = load_keys(key_dir).chain_key
    assert verify(recorder_of(service), key).ok
    rows = _rows(service, plan_id)
    version = sorted(rows)[4]
    altered = rows[version].replace(b'"status":"active"', b'"status":"discharged"', 1)
    assert altered != rows[version]
    _run(
        service,
        update(snapshots)
        .where((snapshots.c.plan_id == plan_id) & (snapshots.c.version == version))
        .values(state=altered),
    )
    report = verify(recorder_of(service), key)
    assert not report.ok
    assert [(p.version, p.kind) for p in report.problems] == [(version, "snapshot_altered")]
