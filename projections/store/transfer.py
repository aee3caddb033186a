"""``export`` and ``import``: events with all their metadata and chain hashes as JSON Lines.

Backup, restore and migration between SQLite and PostgreSQL go through these. Each line is one
event: plan, version, topic, the *exact* stored payload (as text, so the chain hash still
matches), index columns and chain hash. Import recomputes every chain with the target's key and
refuses the whole file, storing nothing, at the first broken or conflicting event: a store is
never left half-imported.

Long plans get a snapshot at their head (a cache, so that reading one does not fold its whole
history). Its state is folded while the plan's events are checked, in a forked child process
when a second core is idle (the fold costs more than all the rest of the import), and written
in the same transaction as the events. A plan the fold could not keep (memory bound, a failure,
no child answer) is instead re-read from the store after the commit, as before.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from typing import IO, Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from sqlalchemy import Connection, Dialect, insert, select

from plantrail.domain.errors import InvalidInput
from plantrail.domain.events import PlanEvent, event_class_for_topic
from plantrail.domain.integrity import GENESIS, chain_hash
from plantrail.domain.persistence import PlanEventMapper, SnapshotRecord, decode_fields
from plantrail.domain.plan import PlanState, fold
from plantrail.domain.service import PlanService
from plantrail.projections.store.engine import WRITE
from plantrail.projections.store.failures import translated
from plantrail.projections.store.recorder import (
    SqlPlanRecorder,
    payload_index_columns,
    read_heads,
)
from plantrail.projections.store.schema import events, snapshots

FORMAT = "plantrail-events/1"
BATCH = 2000
SNAPSHOT_BATCH = 200
FOLD_LIMIT = 1000
"""Plan states held while importing (see ``_Folds``)."""
FOLD_IN_CHILD = True
"""Fold in a forked child process when a second core is idle (see ``folds_in_child``)."""
FOLD_BATCH = 200
"""Events per message to the child: small, so that little is left to fold after the last."""
FOLD_WAIT = 600.0
"""Seconds to wait for the child's snapshots after the last event before doing without them.
It has at most one batch left to fold by then; a child that takes longer is stuck."""
EVENT_COLUMNS = (
    "originator_id",
    "originator_version",
    "topic",
    "state",
    "recorded_at_us",
    "effective_date",
    "command_id",
    "chain_hash",
)


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
    with (
        translated("import the events"),
        recorder.engine.connect().execution_options(**WRITE) as conn,
        conn.begin(),
    ):
        rows = _Rows(conn)
        plans = _Plans(conn.dialect, {plan_id for plan_id, _, _ in read_heads(conn)})
        with _folder(service) as folds:
            for number, record in _parse(lines):
                plan = plans.of(number, record)
                stored, columns, payload = _checked_event(number, record, key, plan)
                folds.add(plan.index, stored, payload)
                if rows.add(plan, stored, columns) and progress:
                    progress(BATCH)
            if (rest := rows.flush()) and progress:
                progress(rest)
            folded = folds.snapshots()
        result.events = rows.written
        taken, later = _head_snapshots(plans.all, folded, service.snapshot_interval)
        # In the same transaction as the events: the import is stored whole or not at all.
        result.snapshots = _insert_snapshots(conn, taken)
    result.plans = len(plans.all)
    result.snapshots += _snapshot_long_plans(service, recorder, later)
    return result


@dataclass
class _Plan:
    """One plan of the file, as far as its events have been checked."""

    index: int
    """Its place in the file, first seen first: a cheap key (hashing a UUID is not)."""
    plan_id: UUID
    bound_id: Any
    """The plan id as the ``Uuid`` column binds it on this database."""
    exists: bool
    """The target store already has this plan: any event of it conflicts."""
    version: int = 0
    chain: bytes = GENESIS
    recorded_us: int = 0
    """When its last checked event was recorded: the next may not be earlier."""


class _Plans:
    """The file's plans by the text of their id (one UUID parse per plan, not per event)."""

    def __init__(self, dialect: Dialect, existing: set[UUID]) -> None:
        self.existing = existing
        self.bind = _binder(dialect, "originator_id")
        self.by_text: dict[str, _Plan] = {}
        self.by_id: dict[UUID, _Plan] = {}

    def of(self, number: int, record: dict[str, Any]) -> _Plan:
        text = record.get("plan_id")
        if not isinstance(text, str):
            raise _refuse(number, "is not a plantrail event record")
        found = self.by_text.get(text)
        if found is None:
            found = self.by_text[text] = self._new(number, text)
        return found

    def _new(self, number: int, text: str) -> _Plan:
        try:
            plan_id = UUID(text)
        except ValueError:
            raise _refuse(number, "is not a plantrail event record") from None
        # Another spelling of a known id (say, upper case) is the same plan.
        found = self.by_id.get(plan_id)
        if found is None:
            found = _Plan(len(self.by_id), plan_id, self.bind(plan_id), plan_id in self.existing)
            self.by_id[plan_id] = found
        return found

    @property
    def all(self) -> list[_Plan]:
        return list(self.by_id.values())


def _checked_event(
    number: int, record: dict[str, Any], key: bytes, plan: _Plan
) -> tuple[StoredEvent, tuple[int, date, str], dict[str, Any]]:
    """The record as a stored event, its index columns and its parsed payload, once every
    check has passed; the plan then stands at this event (version and chain hash).

    The payload is parsed here once, for the index columns and then for the fold: the stored
    bytes stay exactly the text of the line, which the chain hash covers."""
    plan_id = plan.plan_id
    try:
        version = int(record["version"])
        topic = str(record["topic"])
        state = str(record["state"]).encode()
        stored_hash = str(record["chain_hash"])
        event_class_for_topic(topic)
        stored = StoredEvent(plan_id, version, topic, state)
        payload = orjson.loads(state)
        if not isinstance(payload, dict):
            raise TypeError(payload)
        columns = payload_index_columns(payload)
    except (KeyError, ValueError, TypeError):  # orjson.JSONDecodeError is a ValueError
        raise _refuse(number, "is not a plantrail event record") from None
    recorded_us, effective, command_id = columns
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
    if plan.exists:
        raise _refuse(number, f"plan {plan_id} already exists in this store (conflicting event)")
    if version != plan.version + 1:
        raise _refuse(
            number, f"plan {plan_id}: expected version {plan.version + 1}, found {version}"
        )
    if recorded_us < plan.recorded_us:
        # The service never records an event before the one it follows, and reads as of an
        # instant rely on it (``version_recorded_by``): such a file was not written by it.
        raise _refuse(
            number, f"plan {plan_id} version {version} is recorded before the version it follows"
        )
    digest = chain_hash(key, plan.chain, plan_id, version, topic, state)
    if digest.hex() != stored_hash:
        raise _refuse(
            number,
            f"plan {plan_id} version {version} breaks its hash chain "
            "(tampered, or exported under another key)",
        )
    plan.version, plan.chain, plan.recorded_us = version, digest, recorded_us
    return stored, columns, payload


class _Rows:
    """Checked events bound for ``plantrail_events`` and inserted ``BATCH`` at a time.

    The statement is plain SQL run with the driver's ``executemany``: SQLAlchemy Core would
    re-process every parameter of every row (about as long as the insert itself). The values
    are bound by the columns' own SQLAlchemy types, so the stored bytes are the ones Core (and
    the recorder) would write: on SQLite a UUID as 32 hex digits and a date as ISO text.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self.statement = (
            f"INSERT INTO {events.name} ({', '.join(EVENT_COLUMNS)}) "
            f"VALUES ({', '.join([marker] * len(EVENT_COLUMNS))})"
        )
        self.bind_day = _binder(conn.dialect, "effective_date")
        self.days: dict[date, Any] = {}
        """Bound effective dates: a plan's events share few of them."""
        self.pending: list[tuple[Any, ...]] = []
        self.written = 0

    def add(self, plan: _Plan, stored: StoredEvent, columns: tuple[int, date, str]) -> bool:
        """Queue one event's row; True when that filled a batch, which was then inserted."""
        recorded_us, effective, command_id = columns
        day = self.days.get(effective)
        if day is None:
            day = self.days[effective] = self.bind_day(effective)
        self.pending.append(
            (
                plan.bound_id,
                stored.originator_version,
                stored.topic,
                stored.state,
                recorded_us,
                day,
                command_id,
                plan.chain.hex(),
            )
        )
        if len(self.pending) < BATCH:
            return False
        self.flush()
        return True

    def flush(self) -> int:
        """Insert what is queued; how many rows that was."""
        count = len(self.pending)
        if count:
            self.conn.exec_driver_sql(self.statement, self.pending)
            self.written += count
            self.pending = []
        return count


def _binder(dialect: Dialect, column: str) -> Callable[[Any], Any]:
    process = events.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


class _Folds:
    """Each plan's state, folded while its events are checked, for the snapshot taken after.

    The events are decoded with the service's own mapper and folded with ``fold``, exactly as
    ``PlanService.load`` folds them from the store, so the snapshot is the same; this only saves
    reading and decoding every long plan a second time. At most ``FOLD_LIMIT`` states are held
    (the least recently used is dropped) so that an export of many interleaved plans cannot
    exhaust memory. A plan whose state was dropped, or whose events did not fold, gets no
    snapshot here: it is snapshotted the old way, from the store, after the commit.
    """

    def __init__(self, service: PlanService) -> None:
        self.service = service
        self.live: OrderedDict[int, PlanState] = OrderedDict()
        """Plan index to its state; the least recently folded first."""
        self.dropped: set[int] = set()
        # The service's mapper decodes with ``decode_event``: a payload already parsed can go
        # straight to ``decode_fields``, its second half. Any other mapper gets the bytes.
        self.parsed_ok = type(service.mapper) is PlanEventMapper

    def add(self, index: int, stored: StoredEvent, payload: dict[str, Any] | None = None) -> None:
        """Fold one event; ``payload`` is its state already parsed, which this takes over
        (the decode upcasts it in place)."""
        if index in self.dropped:
            return
        state = self.live.pop(index, None)
        try:
            if payload is not None and self.parsed_ok:
                event = decode_fields(
                    stored.originator_id, stored.originator_version, stored.topic, payload
                )
            else:
                event = cast(PlanEvent, self.service.mapper.to_domain_event(stored))
            state = fold((event,), state)
        except Exception:
            # Only a short cut: the old path meets the same failure, and reports it as before.
            state = None
        if state is None or state.version != stored.originator_version:
            self.dropped.add(index)
            return
        self.live[index] = state
        if len(self.live) > FOLD_LIMIT:
            self.dropped.add(self.live.popitem(last=False)[0])

    def snapshots(self) -> dict[int, tuple[int, bytes]]:
        """Plan index to (version, snapshot bytes) of each folded plan long enough for one."""
        interval = self.service.snapshot_interval
        return {
            index: (state.version, self.service.snapshot_bytes(state))
            for index, state in self.live.items()
            if state.version >= interval
        }


class _ForkedFolds:
    """``_Folds`` in a forked child process, so that the second core folds while this one
    checks and inserts (the fold costs more than all the rest of the import).

    The child only computes snapshot bytes, a cache: it never touches the database, and if it
    fails in any way its plans are snapshotted the old way after the commit. Events go to it
    in batches through a pipe; the answer comes back once, at the end.
    """

    def __init__(self, service: PlanService) -> None:
        context = multiprocessing.get_context("fork")
        self.answers, child_answers = context.Pipe(duplex=False)
        child_events, self.events = context.Pipe(duplex=False)
        # The child starts, and stays, with the cycle collector off: collecting an inherited
        # database connection there would run its finaliser on the parent's socket.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.child = context.Process(
                target=_fold_in_child,
                args=(service, child_events, child_answers, (self.events, self.answers)),
                daemon=True,
                name="plantrail-import-fold",
            )
            self.child.start()
        finally:
            if collecting:
                gc.enable()
        child_events.close()
        child_answers.close()
        self.pending: list[tuple[int, UUID, int, str, bytes]] = []
        self.failed = False
        self.answered = False

    def add(self, index: int, stored: StoredEvent, payload: dict[str, Any] | None = None) -> None:
        # The child gets the bytes and parses them on its own core (a dict pickles slower).
        plan_id = cast(UUID, stored.originator_id)
        self.pending.append((index, plan_id, stored.originator_version, stored.topic, stored.state))
        if len(self.pending) >= FOLD_BATCH:
            self._send()

    def _send(self) -> None:
        batch, self.pending = self.pending, []
        if not self.failed:
            try:
                self.events.send_bytes(pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
            except OSError:  # the child is gone: its plans take the old path
                self.failed = True

    def snapshots(self) -> dict[int, tuple[int, bytes]]:
        if self.pending:
            self._send()
        try:
            self.events.send_bytes(b"")  # the end of the events
            deadline = time.monotonic() + FOLD_WAIT
            while not self.answers.poll(1.0):
                if not self.child.is_alive() or time.monotonic() > deadline:
                    return {}
            found: dict[int, tuple[int, bytes]] = pickle.loads(self.answers.recv_bytes())
        except (OSError, EOFError, pickle.UnpicklingError):
            return {}
        self.answered = not self.failed
        return found if self.answered else {}

    def close(self) -> None:
        self.events.close()
        self.answers.close()
        if self.answered:
            # It has nothing left to do but exit; multiprocessing reaps it later, so the
            # import need not wait for the kernel to tear its memory down.
            return
        self.child.join(timeout=5)
        if self.child.is_alive():  # refused mid-file, or stuck: the child is still folding
            self.child.kill()
            self.child.join()


def _fold_in_child(
    service: PlanService, events_in: Any, answers_out: Any, parent_ends: tuple[Any, ...]
) -> None:
    # The child inherited the parent's ends of both pipes: closed here, so that the parent
    # closing its own is an end of file for the child.
    for end in parent_ends:
        end.close()
    # Ctrl-C is the parent's to handle: it stops sending, and the child ends at the closed pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    folds = _Folds(service)
    with suppress(EOFError, OSError):  # the parent stopped early (the file was refused)
        while data := events_in.recv_bytes():
            for index, plan_id, version, topic, state in pickle.loads(data):
                folds.add(index, StoredEvent(plan_id, version, topic, state))
        answers_out.send_bytes(pickle.dumps(folds.snapshots(), pickle.HIGHEST_PROTOCOL))


@contextmanager
def _folder(service: PlanService) -> Iterator[_Folds | _ForkedFolds]:
    """Folds in a child process where a second core and ``fork`` allow it, else in this one."""
    try:
        forked = _ForkedFolds(service) if folds_in_child() else None
    except OSError:  # no fork now (a process limit, memory): this process folds
        forked = None
    if forked is None:
        yield _Folds(service)
        return
    try:
        yield forked
    finally:
        forked.close()


def folds_in_child() -> bool:
    """Whether an import now folds in a forked child: ``fork`` exists, and a second core that
    is idle. On a busy machine the child gains nothing and its hand-over costs (measured: 10 to
    25 % slower at a load average of 4 to 6 on 2 cores; 25 % faster with a core to spare)."""
    if not FOLD_IN_CHILD or "fork" not in multiprocessing.get_all_start_methods():
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return cores > 1 and _load_average() < cores - 0.5


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # not known here: assume the other cores are free
        return 0.0


def _head_snapshots(
    plans: list[_Plan], folded: dict[int, tuple[int, bytes]], interval: int
) -> tuple[list[dict[str, Any]], list[_Plan]]:
    """The snapshot rows of long plans folded at their head, and the long plans still lacking
    one (to be re-read from the store)."""
    taken: list[dict[str, Any]] = []
    later: list[_Plan] = []
    for plan in plans:
        if plan.version < interval:
            continue
        version, state = folded.get(plan.index, (0, b""))
        if version == plan.version:
            taken.append({"plan_id": plan.plan_id, "version": version, "state": state})
        else:
            later.append(plan)
    return taken, later


def _insert_snapshots(conn: Connection, rows: list[dict[str, Any]]) -> int:
    for start in range(0, len(rows), SNAPSHOT_BATCH):
        conn.execute(insert(snapshots), rows[start : start + SNAPSHOT_BATCH])
    return len(rows)


def _snapshot_long_plans(
    service: PlanService, recorder: SqlPlanRecorder, plans: list[_Plan]
) -> int:
    """Snapshot those of ``plans`` long enough for one, each re-read from the store."""
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

    for plan in plans:
        if plan.version < service.snapshot_interval:
            continue
        state = service.load(plan.plan_id)
        snapshot = SnapshotRecord(plan.plan_id, state.version, service.snapshot_bytes(state))
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
