"""``SqlPlanRecorder``: eventsourcing's ApplicationRecorder on SQLAlchemy (SQLite, PostgreSQL).

One write transaction stores, atomically: the events with their index columns and chain hashes,
the command's idempotency record, an occasional snapshot, and every inline read model. The
(plan, version) unique constraint decides races: of several writers of the same version exactly
one commits; the others get ``IntegrityError`` and nothing of theirs is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
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
from sqlalchemy import Engine, and_, func, select

from plantrail.domain.errors import StorageError
from plantrail.domain.integrity import GENESIS, chain_hash
from plantrail.domain.persistence import CommandRecord, SnapshotRecord
from plantrail.projections.store import observe
from plantrail.projections.store.driver import Driver
from plantrail.projections.store.engine import check_durability
from plantrail.projections.store.failures import translated
from plantrail.projections.store.schema import events, metadata

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The hot-path statements, run on the DBAPI connection (``driver.py``); ``?`` is the marker.
_INSERT_EVENT_HEAD = (
    "INSERT INTO plantrail_events (originator_id, originator_version, topic, state, "
    "recorded_at_us, effective_date, command_id, chain_hash) VALUES"
)
_INSERT_COMMAND_HEAD = (
    "INSERT INTO plantrail_commands (command_id, plan_id, payload_hash, result, recorded_at_us) "
    "VALUES"
)
_INSERT_SNAPSHOT_HEAD = "INSERT INTO plantrail_snapshots (plan_id, version, state) VALUES"
_INSERT_EVENT = _INSERT_EVENT_HEAD + " (?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_COMMAND = _INSERT_COMMAND_HEAD + " (?, ?, ?, ?, ?)"
_INSERT_SNAPSHOT = _INSERT_SNAPSHOT_HEAD + " (?, ?, ?)"
# Writing a plan's next snapshot trims the one before it to its main part (the bytes before
# the newline, ``domain/snapshots.py``, ADR 0017): only the newest keeps the shared part. A
# format-1 snapshot has no newline and is left whole.
_PREVIOUS_SNAPSHOT = (
    "plan_id = ? AND version = (SELECT MAX(version) FROM plantrail_snapshots "
    "WHERE plan_id = ? AND version < ?)"
)
_TRIM_SNAPSHOT_SQLITE = (
    "UPDATE plantrail_snapshots SET state = substr(state, 1, instr(state, X'0A') - 1) "
    f"WHERE {_PREVIOUS_SNAPSHOT} AND instr(state, X'0A') > 0"
)
_TRIM_SNAPSHOT_POSTGRESQL = (
    "UPDATE plantrail_snapshots "
    "SET state = substring(state from 1 for position('\\x0a'::bytea in state) - 1) "
    f"WHERE {_PREVIOUS_SNAPSHOT.replace('?', '%s')} AND position('\\x0a'::bytea in state) > 0"
)
_HASH_AT = (
    "SELECT chain_hash FROM plantrail_events WHERE originator_id = ? AND originator_version = ?"
)
_SELECT_EVENTS = (
    "SELECT originator_version, topic, state FROM plantrail_events WHERE originator_id = ?"
)
_FIND_COMMAND = "SELECT plan_id, payload_hash, result FROM plantrail_commands WHERE command_id = ?"


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def index_columns(stored: StoredEvent) -> tuple[int, date, str]:
    """recorded time (µs), effective date and command id, read from the stored bytes."""
    return payload_index_columns(orjson.loads(stored.state))


def payload_index_columns(state: dict[str, Any]) -> tuple[int, date, str]:
    """``index_columns`` of a payload already parsed (the import parses each one once)."""
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


@dataclass(frozen=True)
class Companion:
    """A row that another module stores in the same transaction as a command's events: the
    access log's pending row of a write (``access_log.pending_write``), so that no stored change
    is ever without its access-log row, whatever happens after the commit. ``insert`` is the
    statement up to ``VALUES``; ``values`` makes the row from the command's stored answer;
    ``stored`` is called once the transaction that held the row has committed."""

    insert: str
    values: Callable[[dict[str, Any]], tuple[Any, ...]]
    stored: Callable[[], None]


COMPANION: ContextVar[Companion | None] = ContextVar("plantrail_companion", default=None)
"""The companion of the command this thread (or task) is running, if any."""


class SqlPlanRecorder(ApplicationRecorder):
    """The plan event store (see module docstring)."""

    def __init__(self, engine: Engine, chain_key: bytes | None) -> None:
        self.engine = engine
        self.chain_key = chain_key
        # Chain hash of each plan's newest committed event, so a write need not read it back.
        # Only filled after a commit: a committed (plan, version) hash never changes.
        self._heads: dict[UUID, tuple[int, bytes]] = {}
        self.extra_metadata: list[Any] = []
        self.driver = Driver.of(engine)

    def create_tables(self) -> None:
        with translated("create the tables"):
            # A new store only: an older one is upgraded by ``plantrail migrate`` (ADR 0019).
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
        command_row = None
        if command is not None:
            command_row = (
                command.command_id,
                self.driver.uuid(command.plan_id),
                command.payload_hash,
                orjson.dumps(command.result).decode(),
            )
        snapshot_row = None
        if snapshot is not None:
            snapshot_row = (self.driver.uuid(snapshot.plan_id), snapshot.version, snapshot.state)
        companion = COMPANION.get()
        extra = None
        if companion is not None and command is not None:
            extra = (companion.insert, companion.values(command.result))
        with translated("save the change"):
            if self.driver.sqlite:
                rows, ids = self._write_sqlite(stored_events, command_row, snapshot_row, extra)
            else:
                rows, ids = self._write_postgresql(stored_events, command_row, snapshot_row, extra)
        if extra is not None and companion is not None:
            companion.stored()
        observe.appended(len(stored_events))
        if len(self._heads) > 100_000:
            self._heads.clear()
        for stored, row in zip(stored_events, rows, strict=True):
            self._heads[UUID(str(stored.originator_id))] = (row[1], bytes.fromhex(row[7]))
        return ids

    def _write_sqlite(
        self,
        stored_events: Sequence[StoredEvent],
        command_row: tuple[Any, ...] | None,
        snapshot_row: tuple[Any, ...] | None,
        extra: tuple[str, tuple[Any, ...]] | None = None,
    ) -> tuple[list[tuple[Any, ...]], list[int]]:
        """``BEGIN IMMEDIATE``, one statement per row, ``COMMIT``: each is a cheap call into
        SQLite, and the write lock held from the start makes the chain read consistent."""
        with self.driver.transaction() as cursor:
            rows = self._chained_rows(cursor, stored_events)
            ids = []
            for row in rows:
                cursor.execute(_INSERT_EVENT, row)
                ids.append(int(cursor.lastrowid))
            if command_row is not None:
                cursor.execute(_INSERT_COMMAND, (*command_row, rows[-1][4]))
            if snapshot_row is not None:
                cursor.execute(_INSERT_SNAPSHOT, snapshot_row)
                plan, version = snapshot_row[0], snapshot_row[1]
                cursor.execute(_TRIM_SNAPSHOT_SQLITE, (plan, plan, version))
            if extra is not None:
                head, values = extra
                cursor.execute(f"{head} ({', '.join('?' * len(values))})", values)
        return rows, ids

    def _write_postgresql(
        self,
        stored_events: Sequence[StoredEvent],
        command_row: tuple[Any, ...] | None,
        snapshot_row: tuple[Any, ...] | None,
        extra: tuple[str, tuple[Any, ...]] | None = None,
    ) -> tuple[list[tuple[Any, ...]], list[int]]:
        """One statement, so one round trip and its own transaction: the inserts are
        data-modifying CTEs, which PostgreSQL runs atomically (a unique violation in any of
        them stores nothing). The previous chain hash, when it is not remembered, is read
        first: a committed event's hash never changes, and a wrong view of the plan's head
        collides on (plan, version) anyway."""
        with self.driver.connection() as connection:
            cursor = connection.cursor()
            rows = self._chained_rows(cursor, stored_events)
            marks = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
            parts = [
                f"WITH inserted AS ({_INSERT_EVENT_HEAD} "
                + ", ".join([marks] * len(rows))
                + " RETURNING id)"
            ]
            params: list[Any] = [value for row in rows for value in row]
            if command_row is not None:
                parts.append(f", command AS ({_INSERT_COMMAND_HEAD} (%s, %s, %s, %s, %s))")
                params.extend((*command_row, rows[-1][4]))
            if snapshot_row is not None:
                parts.append(f", snapshot AS ({_INSERT_SNAPSHOT_HEAD} (%s, %s, %s))")
                params.extend(snapshot_row)
                parts.append(f", trimmed AS ({_TRIM_SNAPSHOT_POSTGRESQL})")
                params.extend((snapshot_row[0], snapshot_row[0], snapshot_row[1]))
            if extra is not None:
                head, values = extra
                parts.append(f", companion AS ({head} ({', '.join(['%s'] * len(values))}))")
                params.extend(values)
            parts.append(" SELECT id FROM inserted ORDER BY id")
            cursor.execute("".join(parts), params)
            ids = [int(found[0]) for found in cursor.fetchall()]
        return rows, ids

    def _chained_rows(
        self, cursor: Any, stored_events: Sequence[StoredEvent]
    ) -> list[tuple[Any, ...]]:
        """The event rows in ``_INSERT_EVENT`` order, each chained to the one before it."""
        assert self.chain_key is not None
        rows: list[tuple[Any, ...]] = []
        previous: dict[UUID, bytes] = {}
        driver = self.driver
        for stored in stored_events:
            plan_id = UUID(str(stored.originator_id))
            version = stored.originator_version
            prior = previous.get(plan_id)
            if prior is None and version > 1:
                known = self._heads.get(plan_id)
                if known is not None and known[0] == version - 1:
                    prior = known[1]
            if prior is None:
                prior = GENESIS if version == 1 else self._hash_at(cursor, plan_id, version - 1)
            digest = chain_hash(self.chain_key, prior, plan_id, version, stored.topic, stored.state)
            previous[plan_id] = digest
            recorded_us, effective, command_id = index_columns(stored)
            rows.append(
                (
                    driver.uuid(plan_id),
                    version,
                    stored.topic,
                    stored.state,
                    recorded_us,
                    driver.day(effective),
                    command_id,
                    digest.hex(),
                )
            )
        return rows

    def _hash_at(self, cursor: Any, plan_id: UUID, version: int) -> bytes:
        cursor.execute(self.driver.sql(_HASH_AT), (self.driver.uuid(plan_id), version))
        found = cursor.fetchone()
        if found is None:
            # The version before ours is not there: the caller's view of the plan is wrong.
            raise IntegrityError(f"plan {plan_id} has no version {version} to chain to")
        return bytes.fromhex(found[0])

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
        statement = _SELECT_EVENTS
        params: list[Any] = [self.driver.uuid(plan_id)]
        if gt is not None:
            statement += " AND originator_version > ?"
            params.append(gt)
        if lte is not None:
            statement += " AND originator_version <= ?"
            params.append(lte)
        statement += " ORDER BY originator_version DESC" if desc else " ORDER BY originator_version"
        if limit is not None:
            statement += " LIMIT ?"
            params.append(limit)
        with translated("read the plan"):
            rows = self.driver.all(statement, params)
        return [StoredEvent(plan_id, v, topic, bytes(state)) for v, topic, state in rows]

    def select_snapshot(self, plan_id: UUID, lte: int | None) -> SnapshotRecord | None:
        statement = "SELECT version, state FROM plantrail_snapshots WHERE plan_id = ?"
        params: list[Any] = [self.driver.uuid(plan_id)]
        if lte is not None:
            statement += " AND version <= ?"
            params.append(lte)
        with translated("read the plan"):
            row = self.driver.first(statement + " ORDER BY version DESC LIMIT 1", params)
        return None if row is None else SnapshotRecord(plan_id, int(row[0]), bytes(row[1]))

    def snapshot_version(self, plan_id: UUID, lte: int | None) -> int | None:
        statement = "SELECT MAX(version) FROM plantrail_snapshots WHERE plan_id = ?"
        params: list[Any] = [self.driver.uuid(plan_id)]
        if lte is not None:
            statement += " AND version <= ?"
            params.append(lte)
        with translated("read the plan"):
            row = self.driver.first(statement, params)
        return None if row is None or row[0] is None else int(row[0])

    def find_command(self, command_id: str) -> CommandRecord | None:
        with translated("look up the command"):
            row = self.driver.first(_FIND_COMMAND, (command_id,))
        if row is None:
            return None
        return CommandRecord(command_id, UUID(str(row[0])), row[1], orjson.loads(row[2]))

    def version_recorded_by(self, plan_id: UUID, at: datetime) -> int | None:
        with translated("read the plan"):
            # A plan's recorded times never go back (the service records max(clock, last);
            # an import refuses a file where they do), so the events recorded by ``at`` are
            # a prefix: its last instant is one index seek, and only the events recorded at
            # that very instant are read, not every event before it.
            plan = self.driver.uuid(plan_id)
            row = self.driver.first(
                # ``+``: not MAX's own index walk, which both planners would otherwise pick
                # (the plan's every version), but the seek on (plan, recorded instant).
                "SELECT MAX(+originator_version) FROM plantrail_events "
                "WHERE originator_id = ? AND recorded_at_us = (SELECT MAX(recorded_at_us) "
                "FROM plantrail_events WHERE originator_id = ? AND recorded_at_us <= ?)",
                (plan, plan, to_micros(at)),
            )
        return None if row is None or row[0] is None else int(row[0])

    def first_version_effective_after(self, plan_id: UUID, on: date, lte: int | None) -> int | None:
        # ``+originator_version`` (here and below): read the range of dates from the covering
        # index on (plan, effective date, version), not every version of the plan in order.
        statement = (
            "SELECT MIN(+originator_version) FROM plantrail_events "
            "WHERE originator_id = ? AND effective_date > ?"
        )
        params: list[Any] = [self.driver.uuid(plan_id), self.driver.day(on)]
        if lte is not None:
            statement += " AND +originator_version <= ?"
            params.append(lte)
        with translated("read the plan"):
            row = self.driver.first(statement, params)
        return None if row is None or row[0] is None else int(row[0])

    def select_events_effective_by(
        self, plan_id: UUID, on: date, gt: int, lte: int | None
    ) -> Sequence[StoredEvent]:
        statement = _SELECT_EVENTS + " AND +originator_version > ? AND effective_date <= ?"
        params: list[Any] = [self.driver.uuid(plan_id), gt, self.driver.day(on)]
        if lte is not None:
            statement += " AND +originator_version <= ?"
            params.append(lte)
        with translated("read the plan"):
            rows = self.driver.all(statement + " ORDER BY originator_version", params)
        return [StoredEvent(plan_id, v, topic, bytes(state)) for v, topic, state in rows]

    def plan_exists(self, plan_id: UUID) -> bool:
        with translated("read the plan"):
            row = self.driver.first(
                "SELECT id FROM plantrail_events "
                "WHERE originator_id = ? AND originator_version = 1",
                (self.driver.uuid(plan_id),),
            )
        return row is not None

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

    def chain_hashes(self, plan_id: UUID, lte: int) -> dict[int, str]:
        """Each version's stored chain hash, up to ``lte``: what an audit packet prints beside
        every event so that a reader can match it against ``plantrail verify``."""
        query = (
            select(events.c.originator_version, events.c.chain_hash)
            .where(events.c.originator_id == plan_id, events.c.originator_version <= lte)
            .order_by(events.c.originator_version)
        )
        with translated("read the chain hashes"), self.engine.connect() as conn:
            return {int(v): str(h) for v, h in conn.execute(query)}

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
        self.driver.close()
        self.engine.dispose()
