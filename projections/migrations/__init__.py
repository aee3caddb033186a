"""Schema versions of the store and the check every opening makes (ADR 0019).

The store records its schema version in ``plantrail_schema_version`` (Alembic's version table,
under a name of ours). ``check_schema`` reads it with one small query whenever a store is opened
(``assembly.open_service``): a brand-new empty store is created at ``HEAD`` and stamped; a store
at ``HEAD`` is used as it is; any other store is refused with one line that says what to do.
``plantrail migrate`` (``runner.py``, which alone imports Alembic) upgrades a store step by
step; the steps are the modules in ``versions/``.

This module stays light: opening a store must not load Alembic or read the step files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError

from plantrail.domain.errors import StorageError
from plantrail.projections.store.failures import translated

VERSION_TABLE = "plantrail_schema_version"

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
"""Every step in ``versions/``, oldest first (a test holds this to the step files)."""

HEAD = REVISIONS[-1]
"""The schema this code needs."""

version_metadata = MetaData()

schema_version = Table(
    VERSION_TABLE,
    version_metadata,
    # Alembic's own shape for its version table, so that ``plantrail migrate`` reads ours.
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
)


class SchemaMismatch(StorageError):
    """The store's schema is not the one this code needs."""

    title = "Schema version mismatch"


@dataclass(frozen=True)
class StoreSchema:
    """What a store says about its schema."""

    version: str | None
    """The recorded version; None when the store records none."""
    empty: bool
    """No version and no event table: nothing of plantrail is there yet."""

    @property
    def described(self) -> str:
        if self.version is None:
            return "none (made before plantrail recorded schema versions)"
        return self.version


def read_schema(conn: Connection) -> StoreSchema:
    """The store's schema version: one query, and an inspection only when it has none."""
    try:
        found = list(conn.execute(select(schema_version.c.version_num)).scalars())
    except DBAPIError:
        conn.rollback()  # PostgreSQL: the failed statement ended the transaction
        found = []
        if inspect(conn).has_table(VERSION_TABLE):
            raise
    if len(found) == 1:
        return StoreSchema(found[0], empty=False)
    if len(found) > 1:  # never written by plantrail, which has one line of steps
        return StoreSchema("+".join(sorted(found)), empty=False)
    return StoreSchema(None, empty=not inspect(conn).has_table("plantrail_events"))


def mismatch(schema: StoreSchema) -> SchemaMismatch:
    """The one-line refusal of a store whose schema is not ``HEAD``."""
    at = f"the store is at schema {schema.described}; this plantrail needs {HEAD}"
    if schema.version is None or schema.version in REVISIONS:
        return SchemaMismatch(f"{at}: run `plantrail migrate`")
    return SchemaMismatch(
        f"{at}: a newer plantrail upgraded it, so run that version (migrations only go forward)"
    )


def check_schema(engine: Engine, create: Callable[[], None]) -> None:
    """Refuse a store whose schema is not ``HEAD``; ``create`` the tables of an empty store and
    stamp it at ``HEAD``."""
    with translated("read the schema version"), engine.connect() as conn:
        schema = read_schema(conn)
    if schema.version == HEAD:
        return
    if not schema.empty:
        raise mismatch(schema)
    create()
    stamp_head(engine)


def stamp_head(engine: Engine) -> None:
    """Record ``HEAD`` in an empty store just created at it. Two processes that create the same
    store at once both get here: the second finds the version recorded and checks it."""
    try:
        with engine.begin() as conn:
            version_metadata.create_all(conn)
            if not list(conn.execute(select(schema_version.c.version_num))):
                conn.execute(schema_version.insert().values(version_num=HEAD))
    except DBAPIError:
        with translated("record the schema version"), engine.connect() as conn:
            schema = read_schema(conn)
        if schema.version != HEAD:
            raise mismatch(schema) from None
