"""Database engines for the one storage code path: an SQLite file by default, PostgreSQL by URL.

SQLite is opened in WAL mode with ``synchronous=FULL`` (a commit survives power loss, not only a
crash) and a busy timeout, and every write transaction starts with ``BEGIN IMMEDIATE``: a
deferred transaction that reads the previous chain hash and then writes would fail with
"database is locked" under concurrent writers without honouring the busy timeout. Both
settings are read back at start-up; a file that refuses them is not used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from plantrail.domain.errors import InvalidInput, StorageError
from plantrail.projections.store.deadlines import bound_postgresql, db_timeout
from plantrail.projections.store.files import create_private_file

DEFAULT_URL = "sqlite:///./plantrail.db"
BUSY_TIMEOUT_MS = 30_000
WRITE = {"plantrail_write": True}
"""Execution options of a write connection (``BEGIN IMMEDIATE`` on SQLite)."""


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` for psycopg 3; refuse what we do not run on."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput.on("database", f"{url!r} is not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if (
            not parsed.database
            or parsed.database == ":memory:"
            or parsed.database.startswith("file:")
        ):
            raise InvalidInput.on(
                "database", "SQLite needs a file path, e.g. sqlite:///./plantrail.db"
            )
        return url
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise InvalidInput.on("database", f"unsupported database {backend!r}: use sqlite or postgresql")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_store_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine configured for plantrail's durability rules (see module docstring)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    # Every wait on the database is bounded (``deadlines.py``): connecting, taking a pooled
    # connection, each statement, and a database that stopped answering altogether.
    seconds = db_timeout()
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=seconds if seconds > 0 else 30,
        connect_args={"connect_timeout": max(2, round(seconds)) if seconds > 0 else 10},
    )
    bound_postgresql(engine, seconds)
    return engine


def _sqlite_engine(url: str) -> Engine:
    path = Path(make_url(url).database or "")
    if not path.parent.exists():
        raise InvalidInput.on("database", f"folder {path.parent} does not exist")
    if path.name and path.name != ":memory:":
        create_private_file(path)  # 0600, and so its -wal and -shm (store/files.py)
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        write = connection.get_execution_options().get("plantrail_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def refresh_statistics(engine: Engine, *tables: str) -> None:
    """Have PostgreSQL re-sample ``tables`` after a bulk change, so that its planner uses their
    indexes. Without statistics (a table filled by an import since autovacuum last looked) it
    estimated 390,000 rows for the events of 200 plans and read the whole event table for every
    batch of a rebuild: 250 ms a batch at 1 M events, a third of the rebuild. ``ANALYZE`` only
    samples (about a second at 1 M events) and runs inside a transaction; on a table the user
    does not own it warns and skips. SQLite's planner uses the indexes without statistics."""
    if is_sqlite(engine):
        return
    with engine.connect() as connection:
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table}")
        connection.commit()


def check_durability(engine: Engine) -> None:
    """Refuse to run on an SQLite file that is not in WAL mode with synchronous=FULL."""
    if not is_sqlite(engine):
        return
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        busy = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    if str(mode).lower() != "wal" or int(sync or 0) != 2 or int(busy or 0) < BUSY_TIMEOUT_MS:
        raise StorageError(
            f"the SQLite file refused WAL mode, synchronous=FULL or the busy timeout "
            f"(journal_mode={mode}, synchronous={sync}, busy_timeout={busy}); "
            "put it on a local disk"
        )
