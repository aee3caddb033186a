"""The service's less travelled paths, on a real store (SQLite, and PostgreSQL when set): a
version, instant or date the plan does not have is "not found" with words; the latest state is
read even after another process wrote; a write that loses the race to the same version twice is
a concurrent write that stores nothing; a refusal stands when the plan's cached state was pushed
out meanwhile; a snapshot in a format this code does not read is passed over."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import update

from plantrail.domain import commands as c
from plantrail.domain.content import canonical_json
from plantrail.domain.current import CurrentStates
from plantrail.domain.errors import (
    CommandReused,
    ConcurrentWrite,
    NotFound,
    PlanNotFound,
    RuleViolation,
)
from plantrail.domain.plan import fold
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.store.schema import commands as commands_table
from plantrail.projections.store.schema import snapshots
from tests.support import FakeClock, build_signed_plan, meta, running_service


class HookedClock(FakeClock):
    """A clock that runs ``hook`` when read: the service reads it after loading the plan's
    state and before deciding, the window in which another writer can get in first."""

    def __init__(self) -> None:
        super().__init__()
        self.hook: Callable[[], None] | None = None

    def __call__(self) -> datetime:
        if self.hook is not None:
            self.hook()
        return self.now


@pytest.fixture
def two(store_url: str, key_dir: Path) -> Iterator[tuple[PlanService, PlanService, HookedClock]]:
    """Two services (as two processes would be) on one store; the first on a hooked clock."""
    clock = HookedClock()
    with (
        running_service(store_url, key_dir, clock=clock) as first,
        running_service(store_url, key_dir, clock=FakeClock()) as second,
    ):
        yield first, second, clock


def test_a_version_the_plan_does_not_have_is_not_found(service: PlanService) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    latest = service.load(plan_id).version
    with pytest.raises(NotFound, match="has no version 0"):
        service.load(plan_id, 0)
    with pytest.raises(NotFound, match=rf"has no version {latest + 1} \(latest {latest}\)"):
        service.load(plan_id, latest + 1)
    with pytest.raises(PlanNotFound):
        service.load(uuid4())


def test_an_instant_before_the_plan_was_opened_is_not_found(
    service: PlanService, clock: FakeClock
) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    before = clock.now - timedelta(days=1)
    with pytest.raises(NotFound, match="had not been opened by") as info:
        service.load_at(plan_id, as_of=before)
    assert not isinstance(info.value, PlanNotFound)
    with pytest.raises(PlanNotFound):
        service.load_at(uuid4(), as_of=before)
    with pytest.raises(PlanNotFound):
        service.load_at(uuid4(), effective_on=date(2026, 3, 2))


def test_the_latest_state_is_read_even_after_another_process_wrote(
    two: tuple[PlanService, PlanService, HookedClock],
) -> None:
    first, second, _clock = two
    plan_id = build_signed_plan(first)["plan_id"]
    cached = first.read_current(plan_id, lambda state: state.version)
    written = second.execute(plan_id, c.NoteStrength(text="Plays in a band"), meta())
    assert written.version == cached + 1
    assert first.read_current(plan_id, lambda state: [n.text for n in state.strengths]) == [
        "Plays in a band"
    ]


def test_a_write_that_loses_the_race_twice_is_a_concurrent_write(
    two: tuple[PlanService, PlanService, HookedClock],
) -> None:
    first, second, clock = two
    plan_id = build_signed_plan(first)["plan_id"]
    start = first.load(plan_id).version
    # each time the first service is about to decide, the other writes the next version
    clock.hook = lambda: second.execute(plan_id, c.NoteBarrier(text="Night shifts"), meta())
    with pytest.raises(ConcurrentWrite) as info:
        first.execute(plan_id, c.NoteStrength(text="Plays in a band"), meta())
    clock.hook = None
    assert info.value.version == start + 2
    assert "another change was saved as version" in info.value.message
    state = first.load(plan_id)
    assert state.version == start + 2
    assert [n.text for n in state.barriers] == ["Night shifts", "Night shifts"]
    assert state.strengths == []  # nothing of the losing write was stored


def test_a_refusal_stands_when_the_cached_state_was_pushed_out_meanwhile(
    two: tuple[PlanService, PlanService, HookedClock],
) -> None:
    first, _second, clock = two
    first.current_states = CurrentStates(maxsize=1)
    plan_id = build_signed_plan(first)["plan_id"]
    other = build_signed_plan(first)["plan_id"]
    start = first.load(plan_id).version
    first.read_current(plan_id, lambda state: state.version)  # cached; the other pushed out

    def read_the_other_plan() -> None:
        clock.hook = None
        first.read_current(other, lambda state: state.version)  # pushes this plan out

    clock.hook = read_the_other_plan
    duplicate = c.AddDiagnosis(code="F32.1", description="Major depressive disorder")
    with pytest.raises(RuleViolation) as info:
        first.execute(plan_id, duplicate, meta())
    assert [p.field for p in info.value.errors] == ["code"]
    assert first.load(plan_id).version == start


def test_a_snapshot_in_a_format_this_code_does_not_read_is_passed_over(
    store_url: str, key_dir: Path, clock: FakeClock
) -> None:
    with running_service(store_url, key_dir, clock=clock, snapshot_interval=5) as service:
        plan_id: UUID = build_signed_plan(service)["plan_id"]
        latest = service.load(plan_id).version
        newest = latest - latest % 5
        with recorder_of(service).engine.begin() as conn:
            changed = conn.execute(
                update(snapshots)
                .where((snapshots.c.plan_id == plan_id) & (snapshots.c.version == newest))
                .values(state=b'{"format":9,"state":{}}')
            )
            assert changed.rowcount == 1
        service.decoded_snapshots.clear()
        service.current_states.clear()
        assert service.load(plan_id) == fold(service.events_of(plan_id))
        assert service.load(plan_id, newest) == fold(service.events_of(plan_id, lte=newest))


def test_a_refusal_on_a_cached_state_stands_when_nothing_newer_is_stored(
    service: PlanService,
) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    start = service.read_current(plan_id, lambda state: state.version)  # cached
    duplicate = c.AddDiagnosis(code="F32.1", description="Major depressive disorder")
    with pytest.raises(RuleViolation, match=r"F32\.1 is already on the plan"):
        service.execute(plan_id, duplicate, meta())
    assert service.load(plan_id).version == start


def test_a_date_before_the_plan_took_effect_is_not_found(service: PlanService) -> None:
    plan_id = build_signed_plan(service, effective=date(2026, 2, 20))["plan_id"]
    with pytest.raises(NotFound, match="was not yet in effect on 2026-02-19") as info:
        service.load_at(plan_id, effective_on=date(2026, 2, 19))
    assert not isinstance(info.value, PlanNotFound)
    assert service.load_at(plan_id, effective_on=date(2026, 2, 20)).version >= 1


def test_a_retry_with_a_refreshed_expected_version_gets_the_first_answer(
    service: PlanService,
) -> None:
    """The command id is bound to the change, not to the version its caller read: a client
    that retries after refreshing If-Match must get the first answer, never a refusal that
    invites it to resend under a new id and store the change twice (docs/api.md, "Versions,
    concurrency and retries")."""
    plan_id = build_signed_plan(service)["plan_id"]
    before = service.load(plan_id).version
    command = c.NoteStrength(text="Walks daily")
    first = service.execute(plan_id, command, meta(command_id="k-1", expected_version=before))
    again = service.execute(
        plan_id, command, meta(command_id="k-1", expected_version=first.version)
    )
    assert again == first
    assert service.load(plan_id).version == first.version


def test_a_command_stored_with_the_former_hash_still_answers_its_retries(
    service: PlanService,
) -> None:
    """Command records stored before the hash left out the expected version keep their hash
    (nothing stored is rewritten): a retry of one is still recognised, with any If-Match."""
    plan_id = build_signed_plan(service)["plan_id"]
    before = service.load(plan_id).version
    command = c.NoteStrength(text="Walks daily")
    sent = meta(command_id="k-old", expected_version=before)
    first = service.execute(plan_id, command, sent)
    former = hashlib.sha256(
        canonical_json(
            {
                "type": "NoteStrength",
                "plan_id": str(plan_id),
                "command": command.model_dump(mode="json"),
                "meta": sent.model_dump(mode="json", exclude={"command_id"}),
            }
        )
    ).hexdigest()
    with recorder_of(service).engine.begin() as conn:
        conn.execute(
            update(commands_table)
            .where(commands_table.c.command_id == "k-old")
            .values(payload_hash=former)
        )
    for expected in (before, first.version, None):
        retry = meta(command_id="k-old", expected_version=expected)
        assert service.execute(plan_id, command, retry) == first
    with pytest.raises(CommandReused):
        service.execute(plan_id, c.NoteStrength(text="Other"), meta(command_id="k-old"))
    assert service.load(plan_id).version == first.version
