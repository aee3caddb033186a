"""Every wait on PostgreSQL is bounded: a stalled database is a prompt ``StorageError`` (503 with
``Retry-After``), never a request that hangs for as long as the stall.

Three bounds, all of ``DB_TIMEOUT`` seconds (``PLANTRAIL_DB_TIMEOUT``; docs/api.md, "Running it"):

- connecting: psycopg's ``connect_timeout`` covers the whole handshake;
- on a database that answers: ``statement_timeout`` and ``lock_timeout`` set on each new
  connection, so the server itself cancels a statement that waits or runs too long;
- on a database that does not answer at all (the network or the server stalled: the server's
  cancellation cannot reach us either), a client-side watchdog: each statement (through
  SQLAlchemy) and each driver call (``driver.py``) is registered with its deadline, a little
  after the server's; one that is still waiting then has its socket shut down, which wakes the
  blocked read with an error at once. The connection is then broken and dropped; the pools
  open new ones, so the store recovers as soon as the database answers again.

Taking a connection from SQLAlchemy's pool waits at most ``pool_timeout`` (the same bound).
SQLite needs none of this: its waits are the busy timeout (``engine.py``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, event

DB_TIMEOUT_ENV = "PLANTRAIL_DB_TIMEOUT"
DEFAULT_DB_TIMEOUT = 15.0
"""Seconds; long enough for any statement plantrail runs while serving, short enough that a
stalled database is a prompt 503 rather than a request that hangs."""

GRACE = 1.0
"""Seconds the watchdog leaves the server's own timeout to answer first."""


def db_timeout() -> float:
    """The bound from the environment; 0 or less turns the statement bounds off (a long
    maintenance run, e.g. an import of millions of events)."""
    raw = os.environ.get(DB_TIMEOUT_ENV, "").strip()
    try:
        return float(raw) if raw else DEFAULT_DB_TIMEOUT
    except ValueError:
        return DEFAULT_DB_TIMEOUT


class Watchdog:
    """Shuts down the socket of a PostgreSQL connection still busy past its deadline."""

    def __init__(self) -> None:
        self._due: dict[int, tuple[float, Any]] = {}
        self._guard = threading.Lock()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, connection: Any, seconds: float) -> int:
        """Watch ``connection`` (psycopg) for ``seconds``; the token to ``release`` it with."""
        token = next(self._ids)
        with self._guard:
            self._due[token] = (time.monotonic() + seconds, connection)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="plantrail-db-watchdog", daemon=True
                )
                self._thread.start()
        return token

    def release(self, token: int) -> None:
        with self._guard:
            self._due.pop(token, None)

    @contextlib.contextmanager
    def watching(self, connection: Any, seconds: float) -> Iterator[None]:
        if seconds <= 0:
            yield
            return
        token = self.watch(connection, seconds + GRACE)
        try:
            yield
        finally:
            self.release(token)

    def _run(self) -> None:
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            with self._guard:
                overdue = [(t, c) for t, (due, c) in self._due.items() if due <= now]
                for token, _ in overdue:
                    del self._due[token]
            for _, connection in overdue:
                cut(connection)


WATCHDOG = Watchdog()


def cut(connection: Any) -> None:
    """Shut the connection's socket down (both ways): a read blocked on it returns at once."""
    with contextlib.suppress(Exception):
        fd = connection.pgconn.socket
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)


_BOUNDS: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def bound_of(engine: Engine) -> float:
    """The bound set on ``engine`` (0: none, as on SQLite)."""
    return _BOUNDS.get(engine, 0.0)


def bound_postgresql(engine: Engine, seconds: float) -> None:
    """Set the server-side timeouts on each new connection and watch every statement."""
    if seconds <= 0:
        return
    _BOUNDS[engine] = seconds
    milliseconds = int(seconds * 1000)

    @event.listens_for(engine, "connect")
    def _timeouts(dbapi_connection: Any, _record: Any) -> None:
        with WATCHDOG.watching(dbapi_connection, seconds):
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {milliseconds}")
                cursor.execute(f"SET lock_timeout = {milliseconds}")
                # idle_in_transaction_session_timeout: a client that stalls inside a
                # transaction must not hold its locks (and the chain's) for ever.
                cursor.execute(f"SET idle_in_transaction_session_timeout = {milliseconds * 4}")
            dbapi_connection.commit()

    # The pool's pre-ping runs on the DBAPI connection before any statement event.
    ping = engine.dialect.do_ping

    def watched_ping(dbapi_connection: Any) -> bool:
        with WATCHDOG.watching(dbapi_connection, seconds):
            return ping(dbapi_connection)

    engine.dialect.do_ping = watched_ping  # type: ignore[method-assign]

    @event.listens_for(engine, "before_cursor_execute")
    def _watch(
        conn: Any, cursor: Any, _statement: Any, _params: Any, context: Any, _many: Any
    ) -> None:
        if context is not None:
            context._plantrail_watch = WATCHDOG.watch(cursor.connection, seconds + GRACE)

    @event.listens_for(engine, "after_cursor_execute")
    def _release(
        conn: Any, cursor: Any, _statement: Any, _params: Any, context: Any, _many: Any
    ) -> None:
        token = getattr(context, "_plantrail_watch", None)
        if token is not None:
            WATCHDOG.release(token)

    @event.listens_for(engine, "handle_error")
    def _failed(exception_context: Any) -> None:
        token = getattr(exception_context.execution_context, "_plantrail_watch", None)
        if token is not None:
            WATCHDOG.release(token)
