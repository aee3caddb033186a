"""Tampering with the stored events is detected and located.

Six mutation classes, 200 randomised trials each on a store of several plans: an edited payload
that is still valid JSON, one flipped bit, a deleted middle event and two swapped payloads must be
found by ``verify()`` at the right plan and version; a deleted tail and a plan rewritten and
re-chained with the chain key are invisible to the chain by construction and must be found by
``verify(checkpoint=...)`` against a checkpoint signed before the tampering. An untouched store
never reports a problem.

The events table has append-only triggers, so each trial does what an attacker with database
access would: drop the triggers, then change rows.

How the trials stay fast and sound: the store is built once per test; each trial runs in one
database transaction that is rolled back afterwards (dropping a trigger is transactional on
both SQLite and PostgreSQL). Uncommitted changes are visible only on the connection that made
them, so ``verify`` is run on that same connection: it reads through ``recorder.engine.connect()``,
and ``_OnConnection`` lends it the open connection in place of the engine. The verification
code, query and chain arithmetic are exactly those of the product; only where the connection
comes from differs. After the trials the real recorder, on fresh connections, sees the store
untouched, clean and with its triggers back.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import orjson
import pytest
from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.exc import DBAPIError

from plantrail.domain import commands as c
from plantrail.domain.integrity import GENESIS, chain_hash
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.integrity.checkpoint import (
    Checkpoint,
    read_checkpoint,
    sign_checkpoint,
    write_checkpoint,
)
from plantrail.projections.integrity.keys import load_keys
from plantrail.projections.integrity.verify import Report, verify
from plantrail.projections.store.recorder import SqlPlanRecorder
from plantrail.projections.store.schema import events
from tests.support.clock import FakeClock
from tests.support.plans import build_signed_plan, meta

TRIALS = 200
PLANS = 5
INDEX_FIELDS = {"recorded_at", "effective_date", "command_id"}
"""Payload fields mirrored in index columns; a careful rewriter leaves them alone."""


@dataclass(frozen=True)
class Row:
    version: int
    topic: str
    state: bytes


Store = dict[UUID, list[Row]]
Expected = tuple[str, int, str]
"""(plan, version, kind) that verify must report, and nothing else."""


class _OnConnection:
    """Stands in for a recorder: ``verify`` reads through ``.engine.connect()``; here that
    yields one already-open connection, so verify sees the trial's uncommitted tampering.

    ``Connection.execution_options`` would change the borrowed connection for good (verify
    asks for ``stream_results``, after which PostgreSQL would run the next trial's DDL through a
    server-side cursor), so the options are passed per statement instead."""

    def __init__(self, conn: Connection, options: dict[str, Any] | None = None) -> None:
        self._conn = conn
        self._options = options or {}
        self.engine = self

    def connect(self) -> AbstractContextManager[_OnConnection]:
        return nullcontext(self)

    def execution_options(self, **options: Any) -> _OnConnection:
        return _OnConnection(self._conn, {**self._options, **options})

    def execute(self, statement: Any) -> Any:
        return self._conn.execute(statement, execution_options=self._options)


def verify_on(conn: Connection, key: bytes, checkpoint: Checkpoint | None = None) -> Report:
    # The database's own check of the store would roll the trial back on PostgreSQL and sees
    # no damage here anyway (the tampering is through SQL): test_store_soundness.py covers it.
    return verify(
        cast(SqlPlanRecorder, _OnConnection(conn)), key, checkpoint=checkpoint, check_store=False
    )


# ---------------------------------------------------------------------------- the store
def build_store(service: PlanService, clock: FakeClock, rng: random.Random) -> list[UUID]:
    """Several signed plans, each with a random tail of everyday entries (14–29 events)."""
    plans = []
    for _ in range(PLANS):
        ids = build_signed_plan(service)
        plan_id = ids["plan_id"]
        for n in range(rng.randint(5, 20)):
            clock.advance(hours=rng.randint(1, 48))
            kind = rng.randrange(4)
            command: c.PlanCommand
            if kind == 0:
                command = c.NoteStrength(text=f"Walked to the shop {n} times this week")
            elif kind == 1:
                command = c.NoteBarrier(text="Night shifts make evening sessions hard")
            elif kind == 2:
                command = c.RecordMeasurement(
                    instrument="PHQ-9",
                    score=rng.randint(0, 27),
                    administered_on=clock.now.date(),
                    objective_id=ids["objective1"],
                )
            else:
                command = c.AddGoal(statement=f"Sleep routine {n} holds most nights")
            service.execute(plan_id, command, meta())
        plans.append(plan_id)
    return plans


def read_store(conn: Connection) -> Store:
    rows = conn.execute(
        select(
            events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state
        ).order_by(events.c.originator_id, events.c.originator_version)
    ).all()
    store: Store = {}
    for plan, version, topic, state in rows:
        store.setdefault(UUID(str(plan)), []).append(Row(int(version), topic, bytes(state)))
    return store


def drop_append_only_triggers(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER plantrail_events_no_update"))
        conn.execute(text("DROP TRIGGER plantrail_events_no_delete"))
    else:
        conn.execute(text("DROP TRIGGER plantrail_events_append_only ON plantrail_events"))


def append_only_triggers(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        query = (
            "SELECT name FROM sqlite_master "
            "WHERE type = 'trigger' AND tbl_name = 'plantrail_events'"
        )
    else:
        query = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid = 'plantrail_events'::regclass"
        )
    return set(conn.execute(text(query)).scalars())


def at(plan: UUID, version: int) -> Any:
    return (events.c.originator_id == plan) & (events.c.originator_version == version)


def set_state(conn: Connection, plan: UUID, version: int, state: bytes) -> None:
    conn.execute(update(events).where(at(plan, version)).values(state=state))


# ---------------------------------------------------------------------- the mutations
def leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of every scalar in a decoded payload."""
    if isinstance(node, dict):
        for name, child in node.items():
            yield from leaves(child, (*path, name))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from leaves(child, (*path, index))
    else:
        yield path


def edited_payload(state: bytes, rng: random.Random, *, spare_index_fields: bool = False) -> bytes:
    """The payload with one scalar changed, re-encoded: still valid JSON, different bytes."""
    data = orjson.loads(state)
    paths = [p for p in leaves(data) if not (spare_index_fields and p[0] in INDEX_FIELDS)]
    path = rng.choice(paths)
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    value = parent[path[-1]]
    if isinstance(value, bool):
        parent[path[-1]] = not value
    elif isinstance(value, int | float):
        parent[path[-1]] = value + rng.choice((-1, 1, 7))
    elif isinstance(value, str) and value and rng.random() < 0.5:
        i = rng.randrange(len(value))
        parent[path[-1]] = value[:i] + ("x" if value[i] != "x" else "y") + value[i + 1 :]
    else:
        parent[path[-1]] = f"{value or ''} (amended)"
    edited = orjson.dumps(data)
    assert edited != state
    orjson.loads(edited)  # still valid JSON
    return edited


def edit(conn: Connection, store: Store, rng: random.Random, key: bytes) -> Expected:
    plan = rng.choice(sorted(store))
    row = rng.choice(store[plan])
    set_state(conn, plan, row.version, edited_payload(row.state, rng))
    return str(plan), row.version, "edited"


def flip_bit(conn: Connection, store: Store, rng: random.Random, key: bytes) -> Expected:
    plan = rng.choice(sorted(store))
    row = rng.choice(store[plan])
    flipped = bytearray(row.state)
    flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
    set_state(conn, plan, row.version, bytes(flipped))
    return str(plan), row.version, "edited"


def delete_middle(conn: Connection, store: Store, rng: random.Random, key: bytes) -> Expected:
    plan = rng.choice(sorted(store))
    version = rng.randint(2, len(store[plan]) - 1)
    conn.execute(delete(events).where(at(plan, version)))
    return str(plan), version, "missing"


def swap(conn: Connection, store: Store, rng: random.Random, key: bytes) -> Expected:
    plan = rng.choice(sorted(store))
    first, second = sorted(rng.sample(store[plan], 2), key=lambda r: r.version)
    assert first.state != second.state
    set_state(conn, plan, first.version, second.state)
    set_state(conn, plan, second.version, first.state)
    return str(plan), first.version, "edited"


def delete_tail(conn: Connection, store: Store, rng: random.Random, key: bytes) -> Expected:
    plan = rng.choice(sorted(store))
    head = len(store[plan])
    dropped = rng.randint(1, 3)
    conn.execute(
        delete(events).where(
            (events.c.originator_id == plan) & (events.c.originator_version > head - dropped)
        )
    )
    return str(plan), head - dropped + 1, "truncated"


def rewrite_and_rechain(conn: Connection, store: Store, rng: random.Random, key: bytes) -> Expected:
    """Rewrite some or all of a plan's events and recompute its whole chain with the key:
    what an insider holding the chain key can do."""
    plan = rng.choice(sorted(store))
    rows = store[plan]
    rewritten = {r.version for r in rng.sample(rows, rng.randint(1, len(rows)))}
    previous = GENESIS
    for row in rows:
        state = (
            edited_payload(row.state, rng, spare_index_fields=True)
            if row.version in rewritten
            else row.state
        )
        previous = chain_hash(key, previous, plan, row.version, row.topic, state)
        if row.version >= min(rewritten):  # the chain before the first rewrite is unchanged
            conn.execute(
                update(events)
                .where(at(plan, row.version))
                .values(state=state, chain_hash=previous.hex())
            )
    return str(plan), len(rows), "rewritten"


Mutation = Callable[[Connection, Store, random.Random, bytes], Expected]
CHAIN_DETECTS: dict[str, Mutation] = {
    "edit": edit,
    "flip_bit": flip_bit,
    "delete_middle": delete_middle,
    "swap": swap,
}
CHECKPOINT_DETECTS: dict[str, Mutation] = {
    "delete_tail": delete_tail,
    "rewrite_rechain": rewrite_and_rechain,
}


# -------------------------------------------------------------------------- the tests
@pytest.mark.slow
@pytest.mark.parametrize("mutation", [*CHAIN_DETECTS, *CHECKPOINT_DETECTS])
def test_tampering_is_detected_and_located(
    mutation: str, service: PlanService, clock: FakeClock, key_dir: Path, tmp_path: Path
) -> None:
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    build_store(service, clock, rng)
    recorder = recorder_of(service)
    keys = load_keys(key_dir)
    assert keys.signing_key is not None
    # Signed beforehand and kept outside the database, as `plantrail checkpoint` does.
    saved = write_checkpoint(sign_checkpoint(recorder.heads(), keys.signing_key), tmp_path / "cp")
    checkpoint = read_checkpoint(saved, keys.verify_key)
    needs_checkpoint = mutation in CHECKPOINT_DETECTS
    tamper = CHECKPOINT_DETECTS.get(mutation) or CHAIN_DETECTS[mutation]

    false_positives: list[Any] = []
    missed: list[Any] = []
    mislocated: list[Any] = []
    with recorder.engine.connect() as conn:
        store = read_store(conn)
        conn.rollback()
        assert len(store) == PLANS
        for trial in range(TRIALS):
            transaction = conn.begin()
            try:
                control = verify_on(conn, keys.chain_key, checkpoint)
                if not control.ok:
                    false_positives.append((trial, control.problems))
                drop_append_only_triggers(conn)
                expected = tamper(conn, store, rng, keys.chain_key)
                if needs_checkpoint:
                    # The chain alone cannot see these: the trial must really need the checkpoint.
                    assert verify_on(conn, keys.chain_key).ok, "tampering not chain-consistent"
                    report = verify_on(conn, keys.chain_key, checkpoint)
                else:
                    report = verify_on(conn, keys.chain_key)
            finally:
                transaction.rollback()
            found = [(p.plan_id, p.version, p.kind) for p in report.problems]
            if report.ok:
                missed.append((trial, expected))
            elif found != [expected]:
                mislocated.append((trial, expected, found))

    # The store is untouched afterwards, seen through the real recorder on fresh connections.
    assert verify(recorder, keys.chain_key, checkpoint=checkpoint).ok
    with recorder.engine.connect() as conn:
        assert read_store(conn) == store
        assert append_only_triggers(conn) >= (
            {"plantrail_events_no_update", "plantrail_events_no_delete"}
            if conn.dialect.name == "sqlite"
            else {"plantrail_events_append_only"}
        )
    detected = TRIALS - len(missed)
    located = detected - len(mislocated)
    print(
        f"\ntamper {mutation} ({recorder.engine.dialect.name}, seed {seed}): "
        f"{detected}/{TRIALS} detected, {located}/{TRIALS} located, "
        f"{len(false_positives)}/{TRIALS} false positives on the untouched store"
    )
    assert false_positives == [], f"seed {seed}: {false_positives[:3]}"
    assert missed == [], f"seed {seed}: {len(missed)} undetected, e.g. {missed[:3]}"
    assert mislocated == [], f"seed {seed}: {len(mislocated)} mislocated, e.g. {mislocated[:3]}"


def test_append_only_triggers_refuse_update_and_delete(service: PlanService, key_dir: Path) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    recorder = recorder_of(service)
    with recorder.engine.connect() as conn:
        before = read_store(conn)
    attempts = [
        update(events).where(at(plan_id, 2)).values(state=b'{"edited": true}'),
        update(events).values(chain_hash="0" * 64),
        delete(events).where(at(plan_id, before[plan_id][-1].version)),
        delete(events),
    ]
    if recorder.engine.dialect.name == "postgresql":
        attempts.append(text("TRUNCATE plantrail_events"))
    for statement in attempts:
        with (
            recorder.engine.connect() as conn,
            conn.begin(),
            pytest.raises(DBAPIError, match="append-only"),
        ):
            conn.execute(statement)
    with recorder.engine.connect() as conn:
        assert read_store(conn) == before
    keys = load_keys(key_dir)
    assert verify(recorder, keys.chain_key).ok


def test_altered_snapshot_is_detected_and_located(service, key_dir) -> None:  # type: ignore[no-untyped-def]
    """A snapshot is a cache, but an altered one would change what a plan shows: verify folds
    the plan's events and reports the first snapshot that differs."""
    from plantrail.domain import commands as cmds
    from plantrail.projections.assembly import recorder_of
    from plantrail.projections.integrity.keys import load_chain_key
    from plantrail.projections.integrity.verify import verify as run_verify
    from plantrail.projections.store.schema import snapshots
    from tests.support.plans import build_signed_plan, meta

    ids = build_signed_plan(service)
    for n in range(120):
        service.execute(ids["plan_id"], cmds.NoteBarrier(text=f"Barrier {n}"), meta())
    recorder = recorder_of(service)
    key = load_chain_key(key_dir)
    assert key is not None
    clean = run_verify(recorder, key)
    assert clean.ok, clean.problems
    with recorder.engine.connect() as conn:
        version, data = conn.execute(
            select(snapshots.c.version, snapshots.c.state).order_by(snapshots.c.version)
        ).first()
    body = orjson.loads(data)
    body["state"]["problems"][ids["problem"]]["statement"] = "No problem at all"
    with recorder.engine.begin() as conn:
        conn.execute(
            update(snapshots).where(snapshots.c.version == version).values(state=orjson.dumps(body))
        )
    report = run_verify(recorder, key)
    assert [(p.plan_id, p.version, p.kind) for p in report.problems] == [
        (str(ids["plan_id"]), version, "snapshot_altered")
    ]
