"""``export`` and ``import``: events with all their metadata and chain hashes as JSON Lines.

Backup, restore and migration between SQLite and PostgreSQL go through these. Each line is one
event: plan, version, topic, the *exact* stored payload (as text, so the chain hash still
matches), index columns and chain hash. Import recomputes every chain with the target's key and
refuses the whole file, storing nothing, at the first broken or conflicting event: a store is
never left half-imported. Snapshots are rebuilt afterwards for long plans (they are a cache).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from sqlalchemy import insert, select

from plantrail.domain.errors import InvalidInput
from plantrail.domain.events import event_class_for_topic
from plantrail.domain.integrity import GENESIS, chain_hash
from plantrail.domain.persistence import SnapshotRecord
from plantrail.domain.service import PlanService
from plantrail.projections.store.engine import WRITE
from plantrail.projections.store.failures import translated
from plantrail.projections.store.recorder import SqlPlanRecorder, index_columns, read_heads
from plantrail.projections.store.schema import events, snapshots

FORMAT = "plantrail-events/1"
BATCH = 2000
SNAPSHOT_BATCH = 200


def export_lines(recorder: SqlPlanRecorder, plan_id: UUID | None = None) -> Iterator[bytes]:
    """JSON Lines, one event each, in notification order, preceded by a header line."""
    yield orjson.dumps({"format": FORMAT}) + b"\n"
    query = select(
        events.c.originator_id,
        events.c.originator_version,
        events.c.topic,
        events.c.state,
        events.c.recorded_at_us,
        events.c.effective_date,
        events.c.command_id,
        events.c.chain_hash,
    ).order_by(events.c.id)
    if plan_id is not None:
        query = query.where(events.c.originator_id == plan_id)
    with translated("read the event log"), recorder.engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=BATCH).execute(query):
            yield (
                orjson.dumps(
                    {
                        "plan_id": str(row.originator_id),
                        "version": row.originator_version,
                        "topic": row.topic,
                        "state": bytes(row.state).decode(),
                        "recorded_at_us": row.recorded_at_us,
                        "effective_date": row.effective_date.isoformat(),
                        "command_id": row.command_id,
                        "chain_hash": row.chain_hash,
                    }
                )
                + b"\n"
            )


@dataclass
class ImportResult:
    events: int = 0
    plans: int = 0
    snapshots: int = 0


def _refuse(line: int, message: str) -> InvalidInput:
    return InvalidInput.on(f"line {line}", message + "; nothing was imported")


def _parse(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    number = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _refuse(number, "is not JSON") from None
        if number == 1:
            if not isinstance(record, dict) or record.get("format") != FORMAT:
                raise _refuse(1, f"is not a {FORMAT} header")
            continue
        if not isinstance(record, dict):
            raise _refuse(number, "is not an event object")
        yield number, record
    if number == 0:
        raise _refuse(1, "the file is empty")


def import_lines(
    service: PlanService,
    recorder: SqlPlanRecorder,
    lines: Iterable[bytes],
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Load an export into this store in one transaction, verifying every chain first-to-last."""
    key = recorder.chain_key
    if key is None:
        raise InvalidInput.on("keys", "no chain key is loaded: run 'plantrail init' first")
    result = ImportResult()
    heads: dict[UUID, tuple[int, bytes]] = {}
    with (
        translated("import the events"),
        recorder.engine.connect().execution_options(**WRITE) as conn,
        conn.begin(),
    ):
        existing = {p: (v, bytes.fromhex(h)) for p, v, h in read_heads(conn)}
        batch: list[dict[str, Any]] = []
        for number, record in _parse(lines):
            row = _checked_row(number, record, key, heads, existing)
            batch.append(row)
            if len(batch) >= BATCH:
                conn.execute(insert(events), batch)
                result.events += len(batch)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            conn.execute(insert(events), batch)
            result.events += len(batch)
            if progress:
                progress(len(batch))
    result.plans = len(heads)
    result.snapshots = _snapshot_long_plans(service, recorder, heads)
    return result


def _checked_row(
    number: int,
    record: dict[str, Any],
    key: bytes,
    heads: dict[UUID, tuple[int, bytes]],
    existing: dict[UUID, tuple[int, bytes]],
) -> dict[str, Any]:
    try:
        plan_id = UUID(record["plan_id"])
        version = int(record["version"])
        topic = str(record["topic"])
        state = str(record["state"]).encode()
        stored_hash = str(record["chain_hash"])
        event_class_for_topic(topic)
        recorded_us, effective, command_id = index_columns(
            StoredEvent(plan_id, version, topic, state)
        )
    except (KeyError, ValueError, TypeError):
        raise _refuse(number, "is not a plantrail event record") from None
    if (
        int(record.get("recorded_at_us", -1)),
        record.get("effective_date"),
        record.get("command_id"),
    ) != (
        recorded_us,
        effective.isoformat(),
        command_id,
    ):
        raise _refuse(
            number, f"plan {plan_id} version {version}: index columns disagree with the event"
        )
    previous_version, previous_hash = heads.get(plan_id) or existing.get(plan_id) or (0, GENESIS)
    if plan_id in existing and plan_id not in heads:
        raise _refuse(number, f"plan {plan_id} already exists in this store (conflicting event)")
    if version != previous_version + 1:
        raise _refuse(
            number, f"plan {plan_id}: expected version {previous_version + 1}, found {version}"
        )
    digest = chain_hash(key, previous_hash, plan_id, version, topic, state)
    if digest.hex() != stored_hash:
        raise _refuse(
            number,
            f"plan {plan_id} version {version} breaks its hash chain "
            "(tampered, or exported under another key)",
        )
    heads[plan_id] = (version, digest)
    return {
        "originator_id": plan_id,
        "originator_version": version,
        "topic": topic,
        "state": state,
        "recorded_at_us": recorded_us,
        "effective_date": effective,
        "command_id": command_id,
        "chain_hash": stored_hash,
    }


def _snapshot_long_plans(
    service: PlanService, recorder: SqlPlanRecorder, heads: dict[UUID, tuple[int, bytes]]
) -> int:
    taken = 0
    pending: list[dict[str, Any]] = []

    def write() -> None:
        # Many snapshots per transaction: one commit (one fsync) per batch, not per plan.
        with (
            translated("write a snapshot"),
            recorder.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(insert(snapshots), pending)
        pending.clear()

    for plan_id, (version, _) in heads.items():
        if version < service.snapshot_interval:
            continue
        state = service.load(plan_id)
        snapshot = SnapshotRecord(plan_id, state.version, service.snapshot_bytes(state))
        pending.append(
            {"plan_id": snapshot.plan_id, "version": snapshot.version, "state": snapshot.state}
        )
        taken += 1
        if len(pending) >= SNAPSHOT_BATCH:
            write()
    if pending:
        write()
    return taken


def read_lines(handle: IO[bytes]) -> Iterator[bytes]:
    yield from handle
