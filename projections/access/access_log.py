"""The access log: every read, write and denial, append-only and hash-chained.

One row per request: who (user and role, or nobody), when (the server's clock), which plan,
which view or command, the HTTP method, route and status, the outcome (``ok``, ``denied``,
``not_found``, ``rejected``, ``unauthenticated``, ``error``) and the client address. Rows are
numbered 1, 2, 3… without gaps, and each carries an HMAC-SHA-256 (the plan chain's key, with its
own domain prefix) over its content and the previous row's hash, written under a lock (rows are
group-committed, see ``AccessLog``), so ``verify_access_log`` detects a row that was edited,
removed, reordered or inserted by hand.
Database triggers refuse UPDATE and DELETE, like on the event table (HIPAA 164.312(b)).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from plantrail.domain.errors import StorageError
from plantrail.projections.store import observe
from plantrail.projections.store.append_only import guard_append_only
from plantrail.projections.store.driver import Driver
from plantrail.projections.store.failures import translated
from plantrail.projections.store.recorder import COMPANION, Companion, from_micros, to_micros

_PENDING = "\x00pending"
"""The key under which a queued row carries its pending id (never a column)."""

GENESIS_HASH = "0" * 64
DOMAIN = b"plantrail-access-log-v1\x00"
OUTCOMES = ("ok", "denied", "not_found", "rejected", "unauthenticated", "error")

BREAK_GLASS_REASON_MAX = 500
REQUEST_ID_MAX = 64

access_log_metadata = MetaData()

access_log = Table(
    "plantrail_access_log",
    access_log_metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("recorded_at_us", BigInteger, nullable=False, comment="µs since 1970-01-01 UTC"),
    Column("user_id", String(64), nullable=True),
    Column("role", String(20), nullable=True),
    Column("plan_id", String(36), nullable=True),
    Column("action", String(100), nullable=False),
    Column("method", String(10), nullable=False),
    Column("route", String(200), nullable=False),
    Column("status", Integer, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("client_address", String(100), nullable=True),
    Column("hash", String(64), nullable=False, comment="hex HMAC-SHA-256 chained to seq - 1"),
    Column(
        "break_glass_reason",
        String(BREAK_GLASS_REASON_MAX),
        nullable=True,
        comment="an emergency read outside the caller's reach: the reason given (ADR 0016)",
    ),
    Column(
        "request_id",
        String(REQUEST_ID_MAX),
        nullable=True,
        comment="the request's X-Request-ID, as echoed to the caller and in the server's log",
    ),
    Index("plantrail_access_log_plan", "plan_id", "seq"),
    Index("plantrail_access_log_user", "user_id", "seq"),
)

guard_append_only(access_log)

access_pending = Table(
    "plantrail_access_pending",
    access_log_metadata,
    Column("id", String(32), primary_key=True, comment="the request's pending id"),
    Column("recorded_at_us", BigInteger, nullable=False, comment="µs since 1970-01-01 UTC"),
    Column("row", Text, nullable=False, comment="the access-log row, as JSON"),
)
"""A write's access-log row, stored in the same transaction as the write's events
(``pending_write``): the group commit chains it into the log and deletes it here, in one
transaction. After a crash between the write's commit and its row's, the row is still here and
the next group commit (at the latest, of the next process to start) chains it: no stored change
is ever missing from the accounting of disclosures (docs/api.md, "The access log")."""

ADOPT_AFTER_US = 30_000_000
"""A pending row this old has lost its request (a crash, a stall): the group commit chains it
itself. Younger ones are left to their request, which logs them with the final status."""


def _clean(value: str | None, limit: int) -> str | None:
    """Text fit for any store: no NUL, no lone surrogate, at most ``limit`` characters."""
    if value is None:
        return None
    value = value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return value[:limit]


@dataclass
class AccessEntry:
    """One access, as the HTTP layer fills it in while handling a request."""

    method: str
    route: str
    user_id: str | None = None
    role: str | None = None
    plan_id: str | None = None
    action: str = "request"
    status: int = 0
    outcome: str | None = None
    client_address: str | None = None
    break_glass_requested: str | None = None
    """The request's ``X-Break-Glass-Reason`` (not stored unless the data path used it)."""
    break_glass_reason: str | None = None
    """Set when the caller read a plan outside their reach in an emergency (break-glass)."""
    pending_id: str | None = None
    """Set by whoever will log the entry (the logged response, a command): a write then stores
    its row with its events (``pending_write``)."""
    pending_stored: bool = False
    """True once a write stored the entry's pending row with its events."""
    request_id: str | None = None
    """The request's id (``X-Request-ID``): ties this row to the server's request log line."""

    def cleaned(self) -> dict[str, Any]:
        row = {
            "user_id": _clean(self.user_id, 64),
            "role": _clean(self.role, 20),
            "plan_id": _clean(self.plan_id, 36),
            "action": _clean(self.action, 100) or "request",
            "method": _clean(self.method, 10) or "?",
            "route": _clean(self.route, 200) or "?",
            "status": int(self.status),
            "outcome": self.outcome if self.outcome in OUTCOMES else "error",
            "client_address": _clean(self.client_address, 100),
        }
        if self.break_glass_reason is not None:
            # Only present when given, so every row written before the column existed hashes
            # (and verifies) exactly as it did.
            row["break_glass_reason"] = _clean(self.break_glass_reason, BREAK_GLASS_REASON_MAX)
        if self.request_id is not None:
            # Likewise: rows written before the column existed verify unchanged.
            row["request_id"] = _clean(self.request_id, REQUEST_ID_MAX)
        return row


_INSERT_PENDING = "INSERT INTO plantrail_access_pending (id, recorded_at_us, row) VALUES"
_DELETE_PENDING = "DELETE FROM plantrail_access_pending WHERE id = ?"
_OLD_PENDING = (
    "SELECT id, row FROM plantrail_access_pending WHERE recorded_at_us <= ? "
    "ORDER BY recorded_at_us, id"
)


@contextmanager
def pending_write(entry: AccessEntry, clock: Callable[[], datetime]) -> Iterator[None]:
    """Run a write whose events, if stored, carry ``entry``'s access-log row in their
    transaction (``recorder.Companion``): the row as the write's success would be logged,
    status 201 for a creation and 200 otherwise, as the API answers."""
    if entry.pending_id is None:
        yield
        return
    pending_id = entry.pending_id

    def values(result: dict[str, Any]) -> tuple[Any, ...]:
        row = entry.cleaned()
        row["plan_id"] = _clean(str(result.get("plan_id") or entry.plan_id or ""), 36) or None
        row["status"] = 201 if result.get("created") else 200
        row["outcome"] = "ok"
        return pending_id, to_micros(clock()), json.dumps(row, sort_keys=True)

    def stored() -> None:
        entry.pending_stored = True

    token = COMPANION.set(Companion(_INSERT_PENDING, values, stored))
    try:
        yield
    finally:
        COMPANION.reset(token)


def outcome_for(status: int) -> str:
    """The outcome a status means when the data path said nothing more precise."""
    if status < 400:
        return "ok"
    if status == 401:
        return "unauthenticated"
    if status == 403:
        return "denied"
    if status == 404:
        return "not_found"
    if status < 500:
        return "rejected"
    return "error"


def entry_hash(
    key: bytes, previous: str, seq: int, recorded_at_us: int, row: dict[str, Any]
) -> str:
    body = {**row, "seq": seq, "recorded_at_us": recorded_at_us}
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(key, DOMAIN + bytes.fromhex(previous) + data, hashlib.sha256).hexdigest()


_ROW_FIELDS = (
    "user_id",
    "role",
    "plan_id",
    "action",
    "method",
    "route",
    "status",
    "outcome",
    "client_address",
)


_OPTIONAL_FIELDS = ("break_glass_reason", "request_id")
"""Columns added later: in a row's hashed content only when not null."""

_LAST_ROW = "SELECT seq, hash FROM plantrail_access_log ORDER BY seq DESC LIMIT 1"
_INSERT_ROW = (
    "INSERT INTO plantrail_access_log (seq, recorded_at_us, "
    + ", ".join(_ROW_FIELDS + _OPTIONAL_FIELDS)
    + ", hash) VALUES ("
    + ", ".join("?" * (len(_ROW_FIELDS) + len(_OPTIONAL_FIELDS) + 3))
    + ")"
)


def create_access_log_tables(engine: Engine) -> None:
    """Create the access log's tables where missing, at this plantrail's schema. A store made
    before break-glass reads gets its ``break_glass_reason`` column from ``plantrail migrate``
    (step 0002, ADR 0019), no longer here."""
    with translated("create the access log"):
        access_log_metadata.create_all(engine)


class AccessLog:
    """Appends to and reads the access log on ``engine``; ``key`` is the chain key.

    Appends are group-committed: ``submit`` queues a row and returns a future, and one writer
    thread per process takes every queued row, chains them and stores them in one transaction
    (one fsync), then resolves each row's future with its number, or with the error that kept
    the batch from being stored. A caller that waits for its future before answering therefore
    never answers before its row is durable, while concurrent requests share one commit instead
    of queueing for the lock one by one. Several processes still write one chain: each batch
    takes the table lock (PostgreSQL) or ``BEGIN IMMEDIATE`` (SQLite) and reads the last row
    inside it.
    """

    MAX_BATCH = 1000
    """Rows per transaction at most (bounds one commit's size and its waiters' latency)."""

    def __init__(self, engine: Engine, key: bytes | None, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.key = key
        self.clock = clock
        self._queue: list[tuple[dict[str, Any], Future[int]]] = []
        self._wake = threading.Condition()
        self._writer: threading.Thread | None = None
        self._closing = False
        self._driver = Driver.of(engine)
        self._adopted_at_us: int | None = None
        self.last_failure: tuple[float, str] | None = None
        """``time.monotonic()`` and message of the last group commit that failed, cleared by
        the next one stored (``/ready`` reports the log as failing meanwhile)."""

    @property
    def queued(self) -> int:
        """Rows waiting for the next group commit."""
        return len(self._queue)

    @property
    def driver(self) -> Driver:
        """The driver the group commit writes with (``readiness`` probes the same one)."""
        return self._driver

    def create_tables(self) -> None:
        create_access_log_tables(self.engine)

    def append(self, entry: AccessEntry) -> int:
        """Append ``entry`` (chained to the last row) and wait until it is committed; returns
        its number."""
        return self.submit(entry).result()

    def submit(self, entry: AccessEntry) -> Future[int]:
        """Queue ``entry`` for the next group commit; the future gives its number once the row
        is committed, or raises ``StorageError`` if it was not stored."""
        future: Future[int] = Future()
        if self.key is None:
            future.set_exception(
                StorageError("no chain key is loaded: run 'plantrail init' to create the keys")
            )
            return future
        row = entry.cleaned()
        if entry.pending_stored:
            row[_PENDING] = entry.pending_id  # settled in the commit that chains the row
        with self._wake:
            self._queue.append((row, future))
            self._start_writer()
            self._wake.notify()
        return future

    def close(self) -> None:
        """Store what is queued, then stop the writer thread (a later ``submit`` starts a new
        one, so an app that is started again keeps logging)."""
        with self._wake:
            self._closing = True
            writer = self._writer
            self._wake.notify()
        if writer is not None and writer is not threading.current_thread():
            writer.join()
        with self._wake:
            self._closing = False
        self._driver.close()

    def _start_writer(self) -> None:
        # Called with ``_wake`` held. A writer is also started anew after a fork (threads do
        # not survive one) or a ``close``, so queued rows always have one.
        if self._writer is None or not self._writer.is_alive():
            self._writer = threading.Thread(
                target=self._write_forever, name="plantrail-access-log", daemon=True
            )
            self._writer.start()

    def _write_forever(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue:
                    self._writer = None  # under the lock: the next submit starts a writer
                    return
                batch = self._queue[: self.MAX_BATCH]
                del self._queue[: self.MAX_BATCH]
            self._commit(batch)

    def _commit(self, batch: list[tuple[dict[str, Any], Future[int]]]) -> None:
        """Store ``batch`` in one transaction and release its waiters; on failure none of its
        rows is stored, so every one of its waiters gets the error."""
        started = time.perf_counter()
        try:
            numbers = self._store([row for row, _ in batch])
        except Exception as error:
            observe.access_batch(len(batch), time.perf_counter() - started, False)
            self.last_failure = (time.monotonic(), str(getattr(error, "message", "")) or "failed")
            _fail(batch, error)
            return
        except BaseException:
            _fail(batch, StorageError("the access log writer stopped; nothing was stored"))
            raise
        observe.access_batch(len(batch), time.perf_counter() - started, True)
        self.last_failure = None
        for (_, future), seq in zip(batch, numbers, strict=True):
            future.set_result(seq)

    def _store(self, rows: list[dict[str, Any]]) -> list[int]:
        """Chain ``rows`` to the last stored row and insert them in one transaction.

        Plain SQL on the driver (``store/driver.py``): the writer shares the server's core, and
        through SQLAlchemy Core its statements cost several times what they do here."""
        assert self.key is not None
        driver = self._driver
        with translated("write the access log"), driver.transaction() as cursor:
            if not driver.sqlite:
                # Serialise appenders: each row needs the hash of the one before it.
                cursor.execute("LOCK TABLE plantrail_access_log IN EXCLUSIVE MODE")
            # Settle the writes' pending rows: a row whose pending row is gone was chained
            # already (adopted after its request was lost), and is not chained twice.
            chained: list[dict[str, Any] | None] = []
            for row in rows:
                pending = row.pop(_PENDING, None)
                if pending is not None:
                    cursor.execute(driver.sql(_DELETE_PENDING), (pending,))
                    if cursor.rowcount == 0:
                        chained.append(None)
                        continue
                chained.append(row)
            adopted = self._adopt(cursor)
            cursor.execute(_LAST_ROW)
            last = cursor.fetchone()
            seq, previous = (0, GENESIS_HASH) if last is None else (int(last[0]), str(last[1]))
            values = []
            numbers = []
            for item in [*adopted, *chained]:
                if item is None:
                    numbers.append(0)
                    continue
                seq += 1
                recorded = to_micros(self.clock())
                previous = entry_hash(self.key, previous, seq, recorded, item)
                values.append(
                    (
                        seq,
                        recorded,
                        *(item[name] for name in _ROW_FIELDS),
                        *(item.get(name) for name in _OPTIONAL_FIELDS),
                        previous,
                    )
                )
                numbers.append(seq)
            if values:
                cursor.executemany(driver.sql(_INSERT_ROW), values)
        return numbers[len(adopted) :]

    def _adopt(self, cursor: Any) -> list[dict[str, Any]]:
        """Pending rows whose requests were lost (a crash after the write's commit), taken out
        of the pending table to be chained in this transaction: every one at a process's first
        commit, then those older than ``ADOPT_AFTER_US``, looked for every half minute."""
        now = to_micros(self.clock())
        if self._adopted_at_us is not None and now - self._adopted_at_us < ADOPT_AFTER_US:
            return []
        cutoff = now if self._adopted_at_us is None else now - ADOPT_AFTER_US
        self._adopted_at_us = now
        cursor.execute(self._driver.sql(_OLD_PENDING), (cutoff,))
        found = cursor.fetchall()
        for pending_id, _ in found:
            cursor.execute(self._driver.sql(_DELETE_PENDING), (pending_id,))
        return [json.loads(row) for _, row in found]

    def entries(
        self,
        *,
        plan_id: str | None = None,
        user_id: str | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows in order (optionally of one plan or one user), as plain dicts."""
        query = select(access_log).order_by(access_log.c.seq)
        if plan_id is not None:
            query = query.where(access_log.c.plan_id == plan_id)
        if user_id is not None:
            query = query.where(access_log.c.user_id == user_id)
        if after is not None:
            query = query.where(access_log.c.seq > after)
        if limit is not None:
            query = query.order_by(None).order_by(access_log.c.seq.desc()).limit(limit)
        with translated("read the access log"), self.engine.connect() as conn:
            rows = [_as_dict(r) for r in conn.execute(query)]
        return sorted(rows, key=lambda r: int(r["seq"]))

    def last_seq(self) -> int:
        with translated("read the access log"), self.engine.connect() as conn:
            found = conn.execute(
                select(access_log.c.seq).order_by(access_log.c.seq.desc()).limit(1)
            ).scalar()
        return 0 if found is None else int(found)


def _fail(batch: list[tuple[dict[str, Any], Future[int]]], error: Exception) -> None:
    for _, future in batch:
        future.set_exception(error)


def _as_dict(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["recorded_at"] = (
        from_micros(int(data["recorded_at_us"])).isoformat().replace("+00:00", "Z")
    )
    return data


# ------------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class AccessLogProblem:
    seq: int
    kind: str
    """edited | missing"""
    message: str


@dataclass
class AccessLogReport:
    ok: bool = True
    entries_checked: int = 0
    problems: list[AccessLogProblem] = field(default_factory=list)

    def add(self, problem: AccessLogProblem) -> None:
        self.ok = False
        self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "problems": [asdict(p) for p in self.problems],
        }


def _stream(engine: Engine) -> Iterator[Any]:
    query = select(access_log).order_by(access_log.c.seq)
    with translated("read the access log"), engine.connect() as conn:
        yield from conn.execution_options(stream_results=True, yield_per=2000).execute(query)


def verify_access_log(engine: Engine, key: bytes) -> AccessLogReport:
    """Recompute the access log's chain; report the first break (and keep checking after it,
    re-anchored on the stored hash, so every altered row is located)."""
    create_access_log_tables(engine)
    report = AccessLogReport()
    expected_seq = 1
    previous = GENESIS_HASH
    for row in _stream(engine):
        report.entries_checked += 1
        seq = int(row.seq)
        if seq != expected_seq:
            # A gap: the row after it cannot be checked against a hash that is gone; the
            # chain is re-anchored on its stored hash so later edits are still located.
            gap = f"{expected_seq}–{seq - 1}" if seq - 1 > expected_seq else str(expected_seq)
            report.add(AccessLogProblem(expected_seq, "missing", f"entries {gap} are missing"))
        else:
            fields = {name: getattr(row, name) for name in _ROW_FIELDS}
            fields["status"] = int(fields["status"])
            for name in _OPTIONAL_FIELDS:
                if getattr(row, name, None) is not None:
                    fields[name] = getattr(row, name)
            digest = entry_hash(key, previous, seq, int(row.recorded_at_us), fields)
            if not hmac.compare_digest(digest, str(row.hash)):
                report.add(
                    AccessLogProblem(seq, "edited", f"entry {seq} does not match its chain hash")
                )
        previous = str(row.hash)
        expected_seq = seq + 1
    return report
