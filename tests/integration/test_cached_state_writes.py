"""Writes decide on the plan state cached in memory (no read before a command): the store must
still make every outcome the same as if the state had been read fresh.

Two ``PlanService`` instances on one store stand for two server processes: each caches the
plans it has written, and neither sees the other's writes until it goes to the store. The
cached state of the first is therefore stale after the second writes, and a command on it must
neither be refused wrongly (an item the other process added, a version the caller did see)
nor succeed wrongly (a version the caller did not see, a retry that would store twice).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from plantrail.domain import commands as c
from plantrail.domain.errors import CommandReused, StaleVersion, StorageError
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.integrity.keys import load_chain_key
from plantrail.projections.integrity.verify import verify
from tests.support.clock import FakeClock
from tests.support.plans import build_signed_plan, meta
from tests.support.stores import running_service


@pytest.fixture
def other(store_url: str, key_dir: Path, clock: FakeClock) -> Iterator[PlanService]:
    """A second service on the same store: another server process, as far as the store sees."""
    with running_service(store_url, key_dir, clock=clock) as svc:
        yield svc


def _strength(text: str) -> c.NoteStrength:
    return c.NoteStrength(text=text)


def _versions(service: PlanService, plan_id: UUID) -> list[int]:
    return [e.originator_version for e in service.events_of(plan_id)]


def test_a_stale_cached_state_writes_the_next_version(
    service: PlanService, other: PlanService
) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    before = service.execute(plan_id, _strength("Walks daily"), meta()).version
    # The other process writes twice: this process's cached state is now two versions behind.
    other.execute(plan_id, _strength("Calls a friend weekly"), meta())
    other.execute(plan_id, _strength("Kept every appointment"), meta())

    result = service.execute(plan_id, _strength("Journals most evenings"), meta())

    assert result.version == before + 3
    assert _versions(service, plan_id) == list(range(1, before + 4))
    texts = [s.text for s in service.load(plan_id).strengths]
    assert texts[-4:] == [
        "Walks daily",
        "Calls a friend weekly",
        "Kept every appointment",
        "Journals most evenings",
    ]


def test_an_item_added_elsewhere_is_found(service: PlanService, other: PlanService) -> None:
    ids = build_signed_plan(service)
    plan_id = ids["plan_id"]
    service.execute(plan_id, _strength("Walks daily"), meta())  # cache the plan here
    objective = other.execute(
        plan_id,
        c.AddObjective(goal_id=ids["goal"], statement="Sleeps seven hours most nights"),
        meta(),
    )

    # Unknown to this process's cached state, known to the store: not a 404.
    result = service.execute(
        plan_id,
        c.RecordMeasurement(
            instrument="sleep diary",
            score=6,
            administered_on=date(2026, 3, 2),
            objective_id=objective.item_id,
        ),
        meta(),
    )

    assert result.version == objective.version + 1
    assert result.item_id in service.load(plan_id).measurements


def test_the_version_the_caller_saw_elsewhere_is_current(
    service: PlanService, other: PlanService
) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    service.execute(plan_id, _strength("Walks daily"), meta())
    seen = other.execute(plan_id, _strength("Calls a friend weekly"), meta()).version

    result = service.execute(
        plan_id, _strength("Journals most evenings"), meta(expected_version=seen)
    )

    assert result.version == seen + 1


def test_a_version_the_caller_did_not_see_is_still_stale(
    service: PlanService, other: PlanService
) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    seen = service.execute(plan_id, _strength("Walks daily"), meta()).version
    other.execute(plan_id, _strength("Calls a friend weekly"), meta())
    count = len(_versions(service, plan_id))

    with pytest.raises(StaleVersion) as refused:
        service.execute(plan_id, _strength("Journals most evenings"), meta(expected_version=seen))

    assert refused.value.current == seen + 1
    assert len(_versions(service, plan_id)) == count


def test_a_retry_gets_its_first_answer_from_either_process(
    service: PlanService, other: PlanService, key_dir: Path
) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    current = service.load(plan_id).version
    # Named the version it saw: a retry after the plan moved on is refused by the stale check,
    # and must get its first answer all the same.
    envelope = meta(expected_version=current)
    first = service.execute(plan_id, _strength("Walks daily"), envelope)
    other.execute(plan_id, _strength("Calls a friend weekly"), meta())
    count = len(_versions(service, plan_id))

    # On a cached state that has not seen the plan move on, and on one that has not seen it.
    assert service.execute(plan_id, _strength("Walks daily"), envelope) == first
    assert other.execute(plan_id, _strength("Walks daily"), envelope) == first
    # The same id and change without the version: the stale check passes, the stored record
    # collides, and it is the same change (the id is bound to the change, not to If-Match).
    unpinned = meta(command_id=envelope.command_id)
    assert service.execute(plan_id, _strength("Walks daily"), unpinned) == first
    with pytest.raises(CommandReused):
        other.execute(plan_id, _strength("Runs daily"), envelope)

    assert len(_versions(service, plan_id)) == count
    report = verify(recorder_of(service), load_chain_key(key_dir) or b"")
    assert report.ok, report.as_dict()


def test_a_retry_that_passes_every_rule_stores_nothing(service: PlanService) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    envelope = meta()
    first = service.execute(plan_id, _strength("Walks daily"), envelope)
    count = len(_versions(service, plan_id))

    # Nothing refuses a second identical strength: only the command record's key stops it.
    assert service.execute(plan_id, _strength("Walks daily"), envelope) == first
    assert len(_versions(service, plan_id)) == count
    assert service.load(plan_id).version == first.version


def test_reads_and_writes_survive_lost_server_connections(
    service: PlanService, store_url: str
) -> None:
    """PostgreSQL restarted or an administrator ended our sessions: the hot path's pooled
    connections are dead. A read goes through on a new connection; a write that meets a dead
    connection fails cleanly, stores nothing, and goes through when retried with its id."""
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite has no server connections to lose")
    plan_id = build_signed_plan(service)["plan_id"]
    version = service.load(plan_id).version
    recorder = recorder_of(service)
    with recorder.engine.connect() as admin:
        admin.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        admin.commit()

    assert service.load_at(plan_id, version=version).version == version
    envelope = meta()
    try:
        result = service.execute(plan_id, _strength("Walks daily"), envelope)
    except StorageError:
        result = service.execute(plan_id, _strength("Walks daily"), envelope)
    assert result.version == version + 1
    assert _versions(service, plan_id) == list(range(1, version + 2))
