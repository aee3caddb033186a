"""``verify``: recompute every plan's chain and report the first bad event of each plan.

Detects an edited or bit-flipped event, a deleted, swapped, inserted or forged one, and index
columns changed behind the payload's back. With a signed checkpoint it also detects a truncated
tail, a deleted plan and a plan rewritten and re-chained by someone holding the chain key.
Streams the event table in plan order, so memory stays flat whatever the store's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, StoredEvent
from sqlalchemy import select, text

from plantrail.domain.errors import PlantrailError
from plantrail.domain.events import event_class_for_topic
from plantrail.domain.integrity import GENESIS, chain_hash
from plantrail.domain.persistence import PlanEventMapper
from plantrail.domain.plan import PlanState, fold
from plantrail.domain.snapshots import SHARED, Decoded
from plantrail.domain.snapshots import decode as decode_snapshot
from plantrail.projections.integrity.checkpoint import Checkpoint
from plantrail.projections.store.engine import is_sqlite
from plantrail.projections.store.failures import translated
from plantrail.projections.store.recorder import SqlPlanRecorder, index_columns
from plantrail.projections.store.schema import events, snapshots
from plantrail.projections.store.soundness import TABLE_ONLY_SETTINGS, store_findings

STORE = "(store)"
"""The ``plan_id`` of a finding about the store itself rather than one plan."""


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong with one plan's history."""

    plan_id: str
    version: int | None
    kind: str
    """edited | missing | index_altered | unknown_topic | truncated | rewritten | plan_missing |
    snapshot_altered | store_corrupt | store_unreadable (the last two with ``plan_id`` STORE)"""
    message: str


@dataclass
class Report:
    ok: bool = True
    plans_checked: int = 0
    events_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.ok = False
        self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "plans_checked": self.plans_checked,
            "events_checked": self.events_checked,
            "problems": [problem.__dict__ for problem in self.problems],
        }


@dataclass
class _PlanCursor:
    plan_id: UUID
    expected: int = 1
    previous: bytes = GENESIS
    broken: bool = False
    hashes: dict[int, str] = field(default_factory=dict)


def verify(
    recorder: SqlPlanRecorder,
    chain_key: bytes,
    *,
    plan_id: UUID | None = None,
    checkpoint: Checkpoint | None = None,
    progress: Callable[[int], None] | None = None,
    check_store: bool = True,
) -> Report:
    """Check every chain (or one plan's) and, given a checkpoint, every plan head it signed;
    for the whole store, first the database's own check of its files and indexes
    (``store/soundness.py``; ``check_store=False`` leaves it out)."""
    report = Report()
    wanted = checkpoint.heads_by_plan() if checkpoint else {}
    if plan_id is not None:
        wanted = {k: v for k, v in wanted.items() if k == str(plan_id)}
    cursor: _PlanCursor | None = None
    seen: set[str] = set()
    # The database's own check first: reads go through the indexes, so an index that
    # disagrees with its table shows a wrong version while every chain is intact. A damaged
    # store is then read without its indexes, so the chains are checked on the table itself.
    damaged = False
    if plan_id is None and check_store:
        for finding in store_findings(recorder.engine):
            damaged = True
            report.add(Problem(STORE, None, "store_corrupt", finding))

    def finish(done: _PlanCursor) -> None:
        seen.add(str(done.plan_id))
        report.plans_checked += 1
        head = wanted.get(str(done.plan_id))
        if head is not None and not done.broken:
            _compare_head(report, done, head)

    try:
        for row in _rows(recorder, plan_id, without_indexes=damaged):
            row_plan = UUID(str(row.originator_id))
            if cursor is None or cursor.plan_id != row_plan:
                if cursor is not None:
                    finish(cursor)
                cursor = _PlanCursor(row_plan)
            report.events_checked += 1
            if progress is not None:
                progress(1)
            if not cursor.broken:
                _check_row(report, cursor, row, chain_key, track=str(row_plan) in wanted)
        if cursor is not None:
            finish(cursor)
        broken = {p.plan_id for p in report.problems}
        _check_snapshots(recorder, report, plan_id, broken)
    except (PlantrailError, ValueError) as error:
        # A store too damaged to read to the end (a page the database cannot decode, a value
        # no event has) is a finding like any other, never a traceback.
        report.add(
            Problem(STORE, None, "store_unreadable", f"the store could not be read: {error}")
        )
        return report
    for missing in sorted(set(wanted) - seen):
        report.add(
            Problem(
                missing,
                1,
                "plan_missing",
                "the checkpoint lists this plan but the store has none of its events",
            )
        )
    return report


def _check_snapshots(
    recorder: SqlPlanRecorder, report: Report, plan_id: UUID | None, broken: set[str]
) -> None:
    """Every snapshot must equal the fold of its plan's (verified) events at its version: a
    snapshot is only a cache, but an altered one would change what a plan shows."""
    query = select(snapshots.c.plan_id, snapshots.c.version, snapshots.c.state).order_by(
        snapshots.c.plan_id, snapshots.c.version
    )
    if plan_id is not None:
        query = query.where(snapshots.c.plan_id == plan_id)
    with translated("read the snapshots"), recorder.engine.connect() as conn:
        by_plan: dict[UUID, list[tuple[int, bytes]]] = {}
        for row in conn.execute(query):
            by_plan.setdefault(UUID(str(row[0])), []).append((int(row[1]), _as_bytes(row[2])))
    mapper = PlanEventMapper(transcoder=JSONTranscoder())
    for plan, taken in by_plan.items():
        if str(plan) in broken:
            continue  # the chain is already reported broken; its events prove nothing
        stored = recorder.select_events(plan, lte=taken[-1][0])
        state = None
        position = 0
        for version, data in taken:
            state = fold((mapper.to_domain_event(s) for s in stored[position:version]), state)
            position = version
            unreadable = False
            try:
                cached = decode_snapshot(data)
            except ValueError:
                cached, unreadable = None, True
            if cached is None and not unreadable:
                continue  # an older snapshot format: ignored by reads, so harmless
            if unreadable or state is None or not _holds(cached, state):
                report.add(
                    Problem(
                        str(plan),
                        version,
                        "snapshot_altered",
                        f"the snapshot at version {version} differs from the plan's events "
                        "(the events are intact: delete the snapshot and it is rebuilt)",
                    )
                )
                break


def _holds(cached: Decoded | None, state: PlanState) -> bool:
    """The snapshot says what the fold says: all of it, or for a trimmed snapshot (ADR 0017)
    its main part, the shared part being read off a later state."""
    if cached is None:
        return False
    if cached.complete:
        return cached.state == state
    return cached.state.model_dump(exclude=SHARED) == state.model_dump(exclude=SHARED)


def _as_bytes(value: Any) -> bytes:
    """Column bytes; an SQLite value rewritten by hand may come back as TEXT."""
    return value.encode() if isinstance(value, str) else bytes(value)


_TABLE_ONLY = (
    "SELECT originator_id, originator_version, topic, state, recorded_at_us, effective_date, "
    "command_id, chain_hash FROM plantrail_events{hint} "
    "ORDER BY originator_id, originator_version"
)
"""The chain scan read off the table alone (a damaged store's indexes are not trusted)."""


_COLUMNS = (
    events.c.originator_id,
    events.c.originator_version,
    events.c.topic,
    events.c.state,
    events.c.recorded_at_us,
    events.c.effective_date,
    events.c.command_id,
    events.c.chain_hash,
)


def _rows(
    recorder: SqlPlanRecorder, plan_id: UUID | None, *, without_indexes: bool = False
) -> Iterator[Any]:
    if without_indexes:
        sqlite = is_sqlite(recorder.engine)
        table_only = text(_TABLE_ONLY.format(hint=" NOT INDEXED" if sqlite else "")).columns(
            *_COLUMNS
        )
        with translated("read the event log"), recorder.engine.connect() as conn:
            if not sqlite:
                for setting in TABLE_ONLY_SETTINGS:
                    conn.exec_driver_sql(setting)
            yield from conn.execution_options(stream_results=True, yield_per=2000).execute(
                table_only
            )
        return
    query = select(*_COLUMNS).order_by(events.c.originator_id, events.c.originator_version)
    if plan_id is not None:
        query = query.where(events.c.originator_id == plan_id)
    with translated("read the event log"), recorder.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=2000).execute(query)
        yield from result


def _check_row(report: Report, cursor: _PlanCursor, row: Any, key: bytes, *, track: bool) -> None:
    plan = str(cursor.plan_id)
    version = int(row.originator_version)

    def fail(kind: str, message: str, at: int | None = version) -> None:
        cursor.broken = True
        report.add(Problem(plan, at, kind, message))

    if version != cursor.expected:
        first_missing = cursor.expected
        fail(
            "missing",
            f"versions {first_missing}–{version - 1} are missing (deleted events)"
            if version - 1 > first_missing
            else f"version {first_missing} is missing (a deleted event)",
            first_missing,
        )
        return
    state = _as_bytes(row.state)
    expected = chain_hash(key, cursor.previous, cursor.plan_id, version, row.topic, state)
    if expected.hex() != row.chain_hash:
        fail(
            "edited", f"version {version} does not match its chain hash (edited, swapped or forged)"
        )
        return
    try:
        event_class_for_topic(row.topic)
        recorded_us, effective, command_id = index_columns(
            StoredEvent(cursor.plan_id, version, row.topic, state)
        )
    except (KeyError, ValueError):
        fail("unknown_topic", f"version {version} has a topic or payload plantrail never writes")
        return
    if (recorded_us, effective, command_id) != (
        int(row.recorded_at_us),
        row.effective_date,
        row.command_id,
    ):
        fail(
            "index_altered", f"version {version}: the time or date columns disagree with the event"
        )
        return
    cursor.previous = expected
    cursor.expected = version + 1
    if track:
        cursor.hashes[version] = row.chain_hash


def _compare_head(report: Report, cursor: _PlanCursor, head: tuple[int, str]) -> None:
    version, signed_hash = head
    latest = cursor.expected - 1
    plan = str(cursor.plan_id)
    if latest < version:
        report.add(
            Problem(
                plan,
                latest + 1,
                "truncated",
                f"the checkpoint signed version {version} but the store ends at {latest}",
            )
        )
    elif cursor.hashes.get(version) != signed_hash:
        report.add(
            Problem(
                plan,
                version,
                "rewritten",
                f"version {version} differs from the signed checkpoint (rewritten and re-chained)",
            )
        )
