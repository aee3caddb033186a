"""The database's own check of its store: are the files and the indexes sound?

The chain check (``integrity/verify.py``) proves the rows; it cannot see an index that
disagrees with its table, and reads go through the indexes: an edited entry of
``plantrail_events_recorded`` makes "as of" reads show the wrong version while every chain is
intact. So ``verify`` first asks the database (docs/integrity.md, "What verify checks"):

- SQLite: ``PRAGMA integrity_check``, which checks every page and that each index holds exactly
  its table's rows.
- PostgreSQL with the ``amcheck`` extension installed: ``bt_index_check`` with
  ``heapallindexed`` on every B-tree index of the store's tables (read-only, a light lock).
- PostgreSQL without it (``verify`` never installs an extension): each index of the event table
  is read alone (an index-only scan, every other way turned off for the transaction) and its
  entries compared with a sequential scan of the table: the count and an order-free digest of
  the indexed columns.

Each finding is one line; a check that cannot run at all is a finding too, never a traceback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, text

from plantrail.projections.store.engine import is_sqlite

MAX_FINDINGS = 20
"""SQLite lists every broken row; a report names the first few."""

EVENT_INDEXES: dict[str, tuple[str, ...]] = {
    "plantrail_events_plan_version": ("originator_id", "originator_version"),
    "plantrail_events_recorded": ("originator_id", "recorded_at_us"),
    "plantrail_events_effective_version": ("originator_id", "effective_date", "originator_version"),
}
"""The event table's indexes (``schema.events``) and their columns, for the comparison."""

TABLE_ONLY_SETTINGS = (
    "SET LOCAL enable_indexscan = off",
    "SET LOCAL enable_indexonlyscan = off",
    "SET LOCAL enable_bitmapscan = off",
    "SET LOCAL enable_seqscan = on",
)
"""Planner settings that make a query read the table alone, never an index."""

_ALONE = {
    "index": (
        "SET LOCAL enable_seqscan = off",
        "SET LOCAL enable_bitmapscan = off",
        "SET LOCAL enable_indexscan = off",
        "SET LOCAL enable_sort = off",
        "SET LOCAL enable_indexonlyscan = on",
    ),
    "table": TABLE_ONLY_SETTINGS,
}
"""Planner settings that make a query read only the index, or only the table."""


def store_findings(engine: Engine) -> list[str]:
    """What the database finds wrong with the store's files and indexes; empty when sound."""
    try:
        with engine.connect() as conn:
            if is_sqlite(engine):
                return _sqlite(conn)
            return _postgresql(conn)
    except Exception as error:  # a store too damaged to check is itself the finding
        return [f"the database could not check the store: {_first_line(error)}"]


def _sqlite(conn: Connection) -> list[str]:
    rows = conn.exec_driver_sql(f"PRAGMA integrity_check({MAX_FINDINGS})").scalars().all()
    found = [str(row) for row in rows]
    return [] if found == ["ok"] else [f"SQLite integrity check: {line}" for line in found]


def _postgresql(conn: Connection) -> list[str]:
    schema = conn.execute(
        text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'amcheck'"
        )
    ).scalar()
    conn.rollback()
    if schema is not None:
        return _amcheck(conn, str(schema))
    return [
        finding
        for name, columns in EVENT_INDEXES.items()
        if (finding := _compare(conn, name, columns))
    ]


def _amcheck(conn: Connection, schema: str) -> list[str]:
    indexes = conn.execute(
        text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE a.amname = 'btree' AND t.relname LIKE 'plantrail\\_%' "
            "AND t.relnamespace = to_regnamespace(current_schema())::oid ORDER BY c.relname"
        )
    ).scalars()
    found: list[str] = []
    check = f'SELECT "{schema}".bt_index_check(CAST(:name AS regclass), true)'
    for name in list(indexes):
        try:
            with conn.begin_nested():
                conn.execute(text(check), {"name": name})
        except Exception as error:
            found.append(f"index {name}: {_first_line(error)}")
    conn.rollback()
    return found[:MAX_FINDINGS]


def _compare(conn: Connection, index: str, columns: Sequence[str]) -> str | None:
    """Compare what ``index`` holds with the table's rows; None when they agree (or when the
    planner would not read the index alone, so there is nothing to compare)."""
    listed = ", ".join(columns)
    query = f"SELECT {listed} FROM plantrail_events ORDER BY {listed}"
    by_index = _digest(conn, "index", query, expect=index)
    if by_index is None:
        return None
    by_table = _digest(conn, "table", query, expect=None)
    if by_table == by_index:
        return None
    assert by_table is not None
    return (
        f"index {index} disagrees with its table: {by_index[0]} entries in the index, "
        f"{by_table[0]} rows in the table (or the same count with different values)"
    )


def _digest(
    conn: Connection, way: str, query: str, *, expect: str | None
) -> tuple[int, str] | None:
    """The count and an order-free digest of ``query``'s rows, read only one ``way``."""
    with conn.begin():
        for setting in _ALONE[way]:
            conn.exec_driver_sql(setting)
        if expect is not None:
            plan = "\n".join(str(r) for r in conn.exec_driver_sql("EXPLAIN " + query).scalars())
            if f"Index Only Scan using {expect} " not in plan:
                return None
        # Per statement: ``Connection.execution_options`` would make every later one a
        # server-side cursor too, and PostgreSQL declares no cursor for SET or EXPLAIN.
        result = conn.exec_driver_sql(
            query, execution_options={"stream_results": True, "yield_per": 5000}
        )
        return _fold(result)


def _fold(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    """Count and sum (modulo 2**256) of each row's SHA-256: equal for the same multiset of rows
    whatever order the scan gave them in."""
    count, total = 0, 0
    for row in rows:
        count += 1
        total += int.from_bytes(hashlib.sha256(repr(tuple(str(v) for v in row)).encode()).digest())
    return count, f"{total % 2**256:064x}"


def _first_line(error: BaseException) -> str:
    words = str(getattr(error, "orig", None) or error).strip()
    return words.splitlines()[0] if words else type(error).__name__
