"""Driver-level access for the store's hot paths: one command, one plan read.

A command used to cost six SQLAlchemy Core statements on four pool check-outs, and Core's
per-statement work (cache keys, coercion, result set-up, pool events, ``pool_pre_ping`` and
reset-on-return round trips on PostgreSQL) was most of its time: several times the cost of
the fsync'd commit itself. The statements on these paths are few and fixed, so they are
written here once as plain SQL and run on the DBAPI connection directly.

The connections come from the engine (so SQLite gets the same ``connect`` configuration:
WAL, ``synchronous=FULL``, busy timeout, no implicit transactions) and are then detached from
its pool and kept in autocommit mode in a small pool of our own: a single statement is its own
transaction, and writes open theirs explicitly with ``BEGIN IMMEDIATE`` (SQLite) or ``BEGIN``
(PostgreSQL). A connection that fails is rolled back if it can be and dropped if it cannot.
Connections are not pinged before use: a read that finds its PostgreSQL connection lost is
retried once on a new one, and a write that does fails with a clear error (a command is retried
safely with its id), never with a wrong answer. Both databases run the same SQL where they can
(the write's shape differs: see ``SqlPlanRecorder.insert_events``); only the parameter markers
and the way a UUID and a date are bound differ.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy import Engine

from plantrail.domain.errors import StorageError
from plantrail.projections.store.deadlines import WATCHDOG, bound_of
from plantrail.projections.store.engine import is_sqlite

MAX_IDLE = 8
"""Connections kept open between calls (per process); more are opened when threads need them."""


_DRIVERS: weakref.WeakKeyDictionary[Engine, Driver] = weakref.WeakKeyDictionary()
_DRIVERS_GUARD = threading.Lock()


class Driver:
    """Plain SQL on detached DBAPI connections of ``engine`` (see module docstring).

    Use ``Driver.of(engine)``: the store, the access log and the token checks of one engine
    share one pool of connections instead of keeping one each."""

    @classmethod
    def of(cls, engine: Engine) -> Driver:
        """The one driver of ``engine`` (created on first use)."""
        with _DRIVERS_GUARD:
            found = _DRIVERS.get(engine)
            if found is None:
                found = _DRIVERS[engine] = cls(engine)
            return found

    def __init__(self, engine: Engine) -> None:
        # Weakly: the registry keys drivers by engine, and a strong reference from the value
        # would keep every engine (and its driver) alive for good.
        self._engine = weakref.ref(engine)
        self.sqlite = is_sqlite(engine)
        self._bound = bound_of(engine)
        """Seconds a call may wait on PostgreSQL before its socket is cut (``deadlines.py``)."""
        self._idle: list[Any] = []
        self._guard = threading.Lock()
        self._pid = os.getpid()
        self._sql: dict[str, str] = {}

    # ------------------------------------------------------------------------ binding
    def sql(self, statement: str) -> str:
        """``statement`` with ``?`` markers in the driver's own parameter style."""
        found = self._sql.get(statement)
        if found is None:
            found = statement if self.sqlite else statement.replace("?", "%s")
            self._sql[statement] = found
        return found

    def uuid(self, value: UUID) -> Any:
        """How SQLAlchemy's ``Uuid`` column stores a UUID: 32 hex digits on SQLite."""
        return value.hex if self.sqlite else value

    def day(self, value: date) -> Any:
        """How SQLAlchemy's ``Date`` column stores a date: ISO text on SQLite."""
        return value.isoformat() if self.sqlite else value

    # -------------------------------------------------------------------- connections
    def _open(self) -> Any:
        engine = self._engine()
        if engine is None:
            raise StorageError("the store was closed: open it again")
        proxied = engine.raw_connection()  # runs the engine's connect configuration
        proxied.detach()
        connection: Any = proxied.dbapi_connection
        if not self.sqlite:
            connection.rollback()  # the pool's pre-ping may have opened a transaction
            connection.autocommit = True
        return connection

    def _checkout(self) -> Any:
        with self._guard:
            if self._pid != os.getpid():  # a forked child must not share its parent's sockets
                self._idle.clear()
                self._pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._open()

    def _checkin(self, connection: Any) -> None:
        with self._guard:
            if len(self._idle) < MAX_IDLE and self._pid == os.getpid():
                self._idle.append(connection)
                return
        with suppress(Exception):
            connection.close()

    def _recover(self, connection: Any) -> bool:
        """Roll back what a failed call left open; False when the connection is unusable."""
        try:
            if self.sqlite:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            elif connection.closed or connection.broken:
                return False
            elif connection.info.transaction_status != 0:  # not IDLE
                connection.execute("ROLLBACK")
        except Exception:
            return False
        return True

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection in autocommit mode, returned to the pool after use."""
        connection = self._checkout()
        try:
            with WATCHDOG.watching(connection, self._bound):
                yield connection
        except BaseException:
            if self._recover(connection):
                self._checkin(connection)
            else:
                with suppress(Exception):
                    connection.close()
            raise
        self._checkin(connection)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside a write transaction (``BEGIN IMMEDIATE`` on SQLite, ``BEGIN`` on
        PostgreSQL), committed when the block ends without error."""
        with self.connection() as connection:
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
            yield cursor
            cursor.execute("COMMIT")

    def _lost(self, error: BaseException) -> bool:
        """True when ``error`` says the server connection is gone (PostgreSQL restarted, or
        the connection was terminated): every idle connection is then suspect too."""
        if self.sqlite or not isinstance(error, psycopg.OperationalError):
            return False
        self.close()
        return True

    # ------------------------------------------------------------------------- reads
    def all(self, statement: str, params: Sequence[Any]) -> list[Any]:
        """Every row of a read. A read is retried once on a fresh connection when the one it
        used had been lost (the pool does not ping connections before use)."""
        try:
            return self._all(statement, params)
        except Exception as error:
            if not self._lost(error):
                raise
        return self._all(statement, params)

    def _all(self, statement: str, params: Sequence[Any]) -> list[Any]:
        with self.connection() as connection:
            cursor = connection.cursor()
            cursor.execute(self.sql(statement), params)
            rows: list[Any] = cursor.fetchall()
            cursor.close()
            return rows

    def first(self, statement: str, params: Sequence[Any]) -> Any:
        rows = self.all(statement, params)
        return rows[0] if rows else None

    def idle(self) -> int:
        """Connections open and waiting for a call (``/metrics``)."""
        return len(self._idle)

    def close(self) -> None:
        """Close the idle connections (shared by every user of the engine: a later call
        opens new ones)."""
        with self._guard:
            idle, self._idle = self._idle, []
        for connection in idle:
            with suppress(Exception):
                connection.close()
