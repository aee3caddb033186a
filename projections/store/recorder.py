"""``SqlPlanRecorder``: eventsourcing's ApplicationRecorder on SQLAlchemy (SQLite, PostgreSQL).

One write transaction stores, atomically: the events with their index columns and chain hashes,
the command's idempotency record, an occasional snapshot, and every inline read model. The
(plan, version) unique constraint decides races: of several writers of the same version exactly
one commits; the others get ``IntegrityError`` and nothing of theirs is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Notification,
    StoredEvent,
    Subscription,
)
from sqlalchemy import Engine, and_, func, insert, select

from plantrail.domain.errors import StorageError
from plantrail.domain.integrity import GENESIS, chain_hash
from plantrail.domain.persistence import CommandRecord, SnapshotRecord
from plantrail.projections.store.engine import WRITE, check_durability
from plantrail.projections.store.failures import translated
from plantrail.projections.store.schema import commands, events, metadata, snapshots

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def index_columns(stored: StoredEvent) -> tuple[int, date, str]:
    """recorded time (µs), effective date and command id, read from the stored bytes."""
    state = orjson.loads(stored.state)
    recorded = datetime.fromisoformat(state["recorded_at"])
    return to_micros(recorded), date.fromisoformat(state["effective_date"]), state["command_id"]


def read_heads(conn: Any) -> list[tuple[UUID, int, str]]:
    """(plan, latest version, chain hash at it) for every plan, in plan order."""
    latest = (
        select(events.c.originator_id, func.max(events.c.originator_version).label("v"))
        .group_by(events.c.originator_id)
        .subquery()
    )
    query = (
        select(events.c.originator_id, events.c.originator_version, events.c.chain_hash)
        .join(
            latest,
            and_(
                events.c.originator_id == latest.c.originator_id,
                events.c.originator_version == latest.c.v,
            ),
        )
        .order_by(events.c.originator_id)
    )
    return [(UUID(str(r[0])), int(r[1]), r[2]) for r in conn.execute(query)]


class SqlPlanRecorder(ApplicationRecorder):
    """The plan event store (see module docstring)."""

    def __init__(self, engine: Engine, chain_key: bytes | None) -> None:
        self.engine = engine
        self.chain_key = chain_key
        # Chain hash of each plan's newest committed event, so a write need not read it back.
        # Only filled after a commit: a committed (plan, version) hash never changes.
        self._heads: dict[UUID, tuple[int, bytes]] = {}
        self.extra_metadata: list[Any] = []

    def create_tables(self) -> None:
        with translated("create the tables"):
            metadata.create_all(self.engine)
            for extra in self.extra_metadata:
                extra.create_all(self.engine)
        check_durability(self.engine)

    # ---------------------------------------------------------------------------- write
    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        command: CommandRecord | None = None,
        snapshot: SnapshotRecord | None = None,
        **_: Any,
    ) -> Sequence[int]:
        if self.chain_key is None:
            raise StorageError("no chain key is loaded: run 'plantrail init' to create the keys")
        if not stored_events:
            return []
        with (
            translated("save the change"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            rows = self._chained_rows(conn, stored_events)
            ids = list(conn.execute(insert(events).returning(events.c.id), rows).scalars())
            if command is not None:
                conn.execute(
                    insert(commands).values(
                        command_id=command.command_id,
                        plan_id=command.plan_id,
                        payload_hash=command.payload_hash,
                        result=orjson.dumps(command.result).decode(),
                        recorded_at_us=rows[-1]["recorded_at_us"],
                    )
                )
            if snapshot is not None:
                conn.execute(
                    insert(snapshots).values(
                        plan_id=snapshot.plan_id, version=snapshot.version, state=snapshot.state
                    )
                )
        if len(self._heads) > 100_000:
            self._heads.clear()
        for row in rows:
            self._heads[row["originator_id"]] = (
                row["originator_version"],
                bytes.fromhex(row["chain_hash"]),
            )
        return ids

    def _chained_rows(
        self, conn: Any, stored_events: Sequence[StoredEvent]
    ) -> list[dict[str, Any]]:
        assert self.chain_key is not None
        rows: list[dict[str, Any]] = []
        previous: dict[UUID, bytes] = {}
        for stored in stored_events:
            plan_id = UUID(str(stored.originator_id))
            version = stored.originator_version
            prior = previous.get(plan_id)
            if prior is None and version > 1:
                known = self._heads.get(plan_id)
                if known is not None and known[0] == version - 1:
                    prior = known[1]
            if prior is None:
                prior = GENESIS if version == 1 else self._hash_at(conn, plan_id, version - 1)
            digest = chain_hash(self.chain_key, prior, plan_id, version, stored.topic, stored.state)
            previous[plan_id] = digest
            recorded_us, effective, command_id = index_columns(stored)
            rows.append(
                {
                    "originator_id": plan_id,
                    "originator_version": version,
                    "topic": stored.topic,
                    "state": stored.state,
                    "recorded_at_us": recorded_us,
                    "effective_date": effective,
                    "command_id": command_id,
                    "chain_hash": digest.hex(),
                }
            )
        return rows

    def _hash_at(self, conn: Any, plan_id: UUID, version: int) -> bytes:
        found = conn.execute(
            select(events.c.chain_hash).where(
                events.c.originator_id == plan_id, events.c.originator_version == version
            )
        ).scalar()
        if found is None:
            # The version before ours is not there: the caller's view of the plan is wrong.
            raise IntegrityError(f"plan {plan_id} has no version {version} to chain to")
        return bytes.fromhex(found)

    # ----------------------------------------------------------------------------- read
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        plan_id = UUID(str(originator_id))
        query = select(events.c.originator_version, events.c.topic, events.c.state).where(
            events.c.originator_id == plan_id
        )
        if gt is not None:
            query = query.where(events.c.originator_version > gt)
        if lte is not None:
            query = query.where(events.c.originator_version <= lte)
        order = events.c.originator_version.desc() if desc else events.c.originator_version
        query = query.order_by(order)
        if limit is not None:
            query = query.limit(limit)
        with translated("read the plan"), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [StoredEvent(plan_id, v, topic, bytes(state)) for v, topic, state in rows]

    def select_snapshot(self, plan_id: UUID, lte: int | None) -> SnapshotRecord | None:
        query = select(snapshots.c.version, snapshots.c.state).where(snapshots.c.plan_id == plan_id)
        if lte is not None:
            query = query.where(snapshots.c.version <= lte)
        query = query.order_by(snapshots.c.version.desc()).limit(1)
        with translated("read the plan"), self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else SnapshotRecord(plan_id, row[0], bytes(row[1]))

    def find_command(self, command_id: str) -> CommandRecord | None:
        query = select(commands.c.plan_id, commands.c.payload_hash, commands.c.result).where(
            commands.c.command_id == command_id
        )
        with translated("look up the command"), self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return CommandRecord(command_id, row[0], row[1], orjson.loads(row[2]))

    def version_recorded_by(self, plan_id: UUID, at: datetime) -> int | None:
        query = select(func.max(events.c.originator_version)).where(
            events.c.originator_id == plan_id, events.c.recorded_at_us <= to_micros(at)
        )
        with translated("read the plan"), self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

    def first_version_effective_after(self, plan_id: UUID, on: date, lte: int | None) -> int | None:
        query = select(func.min(events.c.originator_version)).where(
            events.c.originator_id == plan_id, events.c.effective_date > on
        )
        if lte is not None:
            query = query.where(events.c.originator_version <= lte)
        with translated("read the plan"), self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

    def select_events_effective_by(
        self, plan_id: UUID, on: date, gt: int, lte: int | None
    ) -> Sequence[StoredEvent]:
        query = select(events.c.originator_version, events.c.topic, events.c.state).where(
            events.c.originator_id == plan_id,
            events.c.originator_version > gt,
            events.c.effective_date <= on,
        )
        if lte is not None:
            query = query.where(events.c.originator_version <= lte)
        with translated("read the plan"), self.engine.connect() as conn:
            rows = conn.execute(query.order_by(events.c.originator_version)).all()
        return [StoredEvent(plan_id, v, topic, bytes(state)) for v, topic, state in rows]

    def plan_exists(self, plan_id: UUID) -> bool:
        query = select(events.c.id).where(
            events.c.originator_id == plan_id, events.c.originator_version == 1
        )
        with translated("read the plan"), self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def plan_ids(self) -> list[UUID]:
        query = (
            select(events.c.originator_id)
            .where(events.c.originator_version == 1)
            .order_by(events.c.id)
        )
        with translated("list the plans"), self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def heads(self) -> list[tuple[UUID, int, str]]:
        """(plan, latest version, chain hash at it) for every plan: what a checkpoint signs."""
        with translated("read the plan heads"), self.engine.connect() as conn:
            return read_heads(conn)

    # ------------------------------------------------------------------ notification log
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        query = select(
            events.c.id,
            events.c.originator_id,
            events.c.originator_version,
            events.c.topic,
            events.c.state,
        )
        if start is not None:
            query = query.where(events.c.id >= start if inclusive_of_start else events.c.id > start)
        if stop is not None:
            query = query.where(events.c.id <= stop)
        if topics:
            query = query.where(events.c.topic.in_(list(topics)))
        query = query.order_by(events.c.id).limit(limit)
        with translated("read the event log"), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Notification(
                id=r[0], originator_id=r[1], originator_version=r[2], topic=r[3], state=bytes(r[4])
            )
            for r in rows
        ]

    def max_notification_id(self) -> int | None:
        with translated("read the event log"), self.engine.connect() as conn:
            found = conn.execute(select(func.max(events.c.id))).scalar()
        return None if found is None else int(found)

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        # Read models are written in the event transaction (ADR 0005), so nothing tails the
        # log; catch-up readers page through select_notifications instead.
        raise StorageError("live subscriptions are not offered: page through the notification log")

    def close(self) -> None:
        self.engine.dispose()
