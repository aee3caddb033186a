"""The event store's tables. Names are part of the stored record: never rename them (ADR 0002).

``plantrail_events`` is append-only: no code path updates or deletes a row, and database
triggers refuse UPDATE and DELETE so that a stray SQL statement cannot either. Besides the
eventsourcing columns (notification id, plan, version, topic, state) it keeps index columns
(recorded time, effective date, command id) and the keyed chain hash, all written in the same
transaction as the event.
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    event,
)

metadata = MetaData()

NotificationId = BigInteger().with_variant(Integer, "sqlite")
"""SQLite only autoincrements an INTEGER PRIMARY KEY (a rowid alias)."""

events = Table(
    "plantrail_events",
    metadata,
    Column("id", NotificationId, primary_key=True, autoincrement=True),
    Column("originator_id", Uuid, nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("topic", String(100), nullable=False),
    Column("state", LargeBinary, nullable=False),
    Column("recorded_at_us", BigInteger, nullable=False, comment="µs since 1970-01-01 UTC"),
    Column("effective_date", Date, nullable=False),
    Column("command_id", String(200), nullable=False),
    Column("chain_hash", String(64), nullable=False, comment="hex HMAC-SHA-256, ADR 0004"),
    UniqueConstraint("originator_id", "originator_version", name="plantrail_events_plan_version"),
    Index("plantrail_events_recorded", "originator_id", "recorded_at_us"),
    # Covering for reads on an effective date (the version is in the index, ADR 0017): those
    # scan a range of dates, and each row they would otherwise fetch only for its version.
    Index(
        "plantrail_events_effective_version",
        "originator_id",
        "effective_date",
        "originator_version",
    ),
    sqlite_autoincrement=True,  # never reuse the id of a (forbidden) deleted row
)

commands = Table(
    "plantrail_commands",
    metadata,
    Column("command_id", String(200), primary_key=True),
    Column("plan_id", Uuid, nullable=False),
    Column("payload_hash", String(64), nullable=False),
    Column("result", Text, nullable=False),
    Column("recorded_at_us", BigInteger, nullable=False),
)

snapshots = Table(
    "plantrail_snapshots",
    metadata,
    Column("plan_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("state", LargeBinary, nullable=False),
)

_SQLITE_GUARDS = [
    f"CREATE TRIGGER IF NOT EXISTS plantrail_events_no_{verb.lower()} BEFORE {verb} "
    "ON plantrail_events BEGIN SELECT RAISE(ABORT, 'plantrail_events is append-only'); END"
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_GUARDS = [
    """CREATE OR REPLACE FUNCTION plantrail_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'plantrail_events is append-only'; END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS plantrail_events_append_only ON plantrail_events",
    """CREATE TRIGGER plantrail_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
       ON plantrail_events FOR EACH STATEMENT EXECUTE FUNCTION plantrail_append_only()""",
]
for _statement in _SQLITE_GUARDS:
    event.listen(events, "after_create", DDL(_statement).execute_if(dialect="sqlite"))  # type: ignore[no-untyped-call]
for _statement in _POSTGRES_GUARDS:
    event.listen(events, "after_create", DDL(_statement).execute_if(dialect="postgresql"))  # type: ignore[no-untyped-call]
