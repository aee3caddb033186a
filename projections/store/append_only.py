"""Database triggers that refuse ``UPDATE`` and ``DELETE`` (and ``TRUNCATE`` on PostgreSQL) on
a table of the record: the access log and the break-glass reviews (HIPAA 164.312(b)). The
event table has its own, older, names (``store/schema.py``)."""

from __future__ import annotations

from sqlalchemy import DDL, Table, event


def append_only_ddl(name: str) -> dict[str, list[str]]:
    """The statements that make table ``name`` append-only, by dialect: on SQLite
    ``<name>_no_update`` and ``<name>_no_delete``; on PostgreSQL the function and statement
    trigger ``<name>_append_only``. A migration that creates such a table runs them too."""
    return {
        "sqlite": [
            f"CREATE TRIGGER IF NOT EXISTS {name}_no_{verb.lower()} BEFORE {verb} "
            f"ON {name} BEGIN SELECT RAISE(ABORT, '{name} is append-only'); END"
            for verb in ("UPDATE", "DELETE")
        ],
        "postgresql": [
            f"""CREATE OR REPLACE FUNCTION {name}_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION '{name} is append-only'; END $$ LANGUAGE plpgsql""",
            f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}",
            f"""CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
           ON {name} FOR EACH STATEMENT EXECUTE FUNCTION {name}_append_only()""",
        ],
    }


def guard_append_only(table: Table) -> None:
    """Create, with ``table``, the triggers that make it append-only (``append_only_ddl``)."""
    for dialect, statements in append_only_ddl(table.name).items():
        for statement in statements:
            ddl = DDL(statement)  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", ddl.execute_if(dialect=dialect))
