"""Readiness: can the store take a write right now (``GET /ready``, docs/api.md)?

Three checks, each bounded so that the answer never takes longer than the database bound
(``PLANTRAIL_DB_TIMEOUT``, ``store/deadlines.py``):

- ``disk``: on SQLite, the free space of the file system that holds the database, against
  ``PLANTRAIL_READY_MIN_FREE_MB`` (default 16). A full disk is the most common way a SQLite
  store stops taking writes, and ``statvfs`` sees it without writing anything. (PostgreSQL's
  disk is the server's; the write probe meets it there.)
- ``write``: a **committed write probe** in a table of its own, ``plantrail_ready_probe``: one
  row (``id`` 1) holding the time of the last probe, overwritten each time. It holds no clinical
  data and nothing identifying, is in no chain and no record, and never grows. A rolled-back
  transaction would not do: SQLite writes a transaction's pages to its WAL only when it
  commits, and PostgreSQL flushes its WAL only at commit, so a probe that is rolled back never
  meets a full disk or a failing fsync. The probe runs on the access log's own connections
  (``store/driver.py``), takes the same write lock the access log's group commit takes
  (``BEGIN IMMEDIATE`` on SQLite; on PostgreSQL ``LOCK TABLE plantrail_access_log``), and waits
  for it at most the bound (SQLite's busy timeout lowered to it for the probe; PostgreSQL's
  ``lock_timeout`` and ``statement_timeout`` set for the probe's transaction, and the client
  watchdog for a database that does not answer at all). So a stalled or unreachable database,
  a read-only or broken file, a failing fsync, or a log whose lock is held by a stuck writer
  all fail it. On SQLite a full disk is the ``disk`` check's to see: the probe rewrites one
  small row, which the WAL usually has room for when a real write no longer fits (tried on a
  full tmpfs: the probe still commits), so it is no substitute for counting free space.
- ``access_log``: the chain key is loaded (without it no row can be written) and the last
  group commit did not fail within ``FAILURE_WINDOW`` seconds with none stored since, unless
  this check's write probe committed after that failure (the probe takes the same lock on the
  same connections, so the store is back: a load balancer need not wait for a logged request
  to let traffic in again). A failure of the log's own rows that the probe cannot see recurs
  with the next logged request, which answers 503, and is counted in
  ``plantrail_access_log_batches_total{result="failed"}``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, Table

from plantrail.domain.errors import PlantrailError
from plantrail.projections.access.access_log import AccessLog
from plantrail.projections.store.deadlines import DEFAULT_DB_TIMEOUT, db_timeout
from plantrail.projections.store.engine import BUSY_TIMEOUT_MS, is_sqlite
from plantrail.projections.store.failures import translated

MIN_FREE_ENV = "PLANTRAIL_READY_MIN_FREE_MB"
DEFAULT_MIN_FREE_MB = 16.0
"""Below this much free space the SQLite store is not ready: a few thousand writes' worth."""
FAILURE_WINDOW = 30.0
"""Seconds a failed access-log group commit keeps ``/ready`` at 503 unless one is stored."""

readiness_metadata = MetaData()

ready_probe = Table(
    "plantrail_ready_probe",
    readiness_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("checked_at_us", BigInteger, nullable=False, comment="µs since 1970-01-01 UTC"),
    comment="GET /ready's write probe: one row, the time of the last probe; no clinical data",
)

_PROBE = (
    "INSERT INTO plantrail_ready_probe (id, checked_at_us) VALUES (1, ?) "
    "ON CONFLICT (id) DO UPDATE SET checked_at_us = excluded.checked_at_us"
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    seconds: float
    detail: str | None = None


def ready_bound() -> float:
    """Seconds the checks may take: the database bound, or its default when it is off."""
    bound = db_timeout()
    return bound if bound > 0 else DEFAULT_DB_TIMEOUT


def min_free_bytes() -> int:
    raw = os.environ.get(MIN_FREE_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_MIN_FREE_MB
    except ValueError:
        megabytes = DEFAULT_MIN_FREE_MB
    return int(megabytes * 1024 * 1024)


class Readiness:
    """The checks of ``GET /ready`` over the access log's engine (the store's)."""

    def __init__(self, access_log: AccessLog, clock_us: Callable[[], int]) -> None:
        self.access_log = access_log
        self.engine: Engine = access_log.engine
        self.clock_us = clock_us
        self.sqlite = is_sqlite(self.engine)

    def create_tables(self) -> None:
        with translated("create the readiness probe"):
            readiness_metadata.create_all(self.engine)

    def check(self, bound: float | None = None) -> list[Check]:
        seconds = ready_bound() if bound is None else bound
        checks = []
        if self.sqlite:
            checks.append(self._timed("disk", self._disk))
        probed_at = time.monotonic()
        write = self._timed("write", lambda: self._probe(seconds))
        checks += [self._access_log(probed_at if write.ok else None), write]
        return checks

    @staticmethod
    def _timed(name: str, run: Callable[[], str | None]) -> Check:
        started = time.perf_counter()
        try:
            problem = run()
        except PlantrailError as error:
            problem = error.message
        except Exception as error:  # a check that breaks is a failed check, never a 500
            problem = f"the check failed ({type(error).__name__})"
        return Check(name, problem is None, round(time.perf_counter() - started, 6), problem)

    def _access_log(self, probed_at: float | None) -> Check:
        """``probed_at``: when a write probe that committed started (None: it failed)."""
        problem = None
        if self.access_log.key is None:
            problem = "no chain key is loaded: the access log cannot be written"
        elif (failed := self.access_log.last_failure) is not None:
            at, message = failed
            recovered = probed_at is not None and at < probed_at
            if time.monotonic() - at < FAILURE_WINDOW and not recovered:
                problem = f"the access log's last write failed: {message}"
        return Check("access_log", problem is None, 0.0, problem)

    def _disk(self) -> str | None:
        database = self.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        stats = os.statvfs(os.path.dirname(os.path.abspath(database)))
        free = stats.f_bavail * stats.f_frsize
        needed = min_free_bytes()
        if free < needed:
            return (
                f"the store's disk is (nearly) full: {free // 1024} KiB free, "
                f"{needed // 1024} KiB needed ({MIN_FREE_ENV})"
            )
        return None

    def _probe(self, bound: float) -> str | None:
        driver = self.access_log.driver
        milliseconds = max(1, int(bound * 1000))
        with translated("write the readiness probe"), driver.connection() as connection:
            cursor: Any = connection.cursor()
            if self.sqlite:
                cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    cursor.execute(driver.sql(_PROBE), (self.clock_us(),))
                    cursor.execute("COMMIT")
                finally:
                    with suppress(Exception):
                        if connection.in_transaction:
                            cursor.execute("ROLLBACK")
                        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            else:
                cursor.execute("BEGIN")
                cursor.execute(f"SET LOCAL lock_timeout = {milliseconds}")
                cursor.execute(f"SET LOCAL statement_timeout = {milliseconds}")
                cursor.execute("LOCK TABLE plantrail_access_log IN EXCLUSIVE MODE")
                cursor.execute(driver.sql(_PROBE), (self.clock_us(),))
                cursor.execute("COMMIT")
        return None
