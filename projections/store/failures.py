"""Turn driver exceptions into plantrail errors a user can act on (never a traceback).

A version conflict becomes eventsourcing's ``IntegrityError`` (the service maps it to
``ConcurrentWrite``); a full disk, a locked file or a lost connection become ``StorageError``
with a one-line explanation. Nothing is stored in any of these cases: the transaction rolled back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from eventsourcing.persistence import IntegrityError
from sqlalchemy import exc

from plantrail.domain.errors import StorageError

_NO_ANSWER = (
    "statement timeout",
    "lock timeout",
    "idle-in-transaction timeout",
    "server closed the connection",
    "consuming input failed",
    "connection timeout expired",
    "timeout expired",
)
"""How psycopg words a wait that reached its bound (``deadlines.py``)."""


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Run a database action, translating failures into plantrail errors."""
    try:
        yield
    # The hot paths run on the DBAPI connection itself (``driver.py``), so the drivers' own
    # exceptions are translated alike.
    except (exc.IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError) as error:
        raise IntegrityError(_first_line(error)) from error
    except exc.TimeoutError as error:  # every pooled connection stayed busy past the bound
        raise StorageError(
            f"cannot {action}: the database did not answer in time; nothing was saved. Try again."
        ) from error
    except (exc.DBAPIError, sqlite3.Error, psycopg.Error) as error:
        message = _first_line(error)
        lowered = message.lower()
        if any(sign in lowered for sign in _NO_ANSWER):
            # A bound of ``deadlines.py``: the server cancelled the statement, or the database
            # stopped answering and the watchdog cut the connection.
            raise StorageError(
                f"cannot {action}: the database did not answer in time (stalled, or the "
                "connection was lost); nothing was saved. Try again."
            ) from error
        if "disk is full" in lowered or "no space left" in lowered or "could not extend" in lowered:
            raise StorageError(
                f"cannot {action}: the database disk is full; nothing was saved. "
                "Free some space and try again."
            ) from error
        if "locked" in lowered or "busy" in lowered:
            raise StorageError(
                f"cannot {action}: the database stayed busy past the timeout; nothing was saved. "
                "Try again."
            ) from error
        if "append-only" in lowered:
            raise StorageError(f"cannot {action}: {message}") from error
        raise StorageError(f"cannot {action}: the database said: {message}") from error
