"""Database triggers that refuse ``UPDATE`` and ``DELETE`` (and ``TRUNCATE`` on PostgreSQL) on
a table of the record: the access log and the break-glass reviews (HIPAA 164.312(b)). The
event table has its own, older, names (``store/schema.py``)."""

from __future__ import annotations

from sqlalchemy import DDL, Table, event


def guard_append_only(table: Table) -> None:
    """Create, with ``table``, the triggers that make it append-only: on SQLite
    ``<table>_no_update`` and ``<table>_no_delete``; on PostgreSQL the function and statement
    trigger ``<table>_append_only``."""
    name = table.name
    for verb in ("UPDATE", "DELETE"):
        event.listen(
            table,
            "after_create",
            DDL(  # type: ignore[no-untyped-call]
                f"CREATE TRIGGER IF NOT EXISTS {name}_no_{verb.lower()} BEFORE {verb} "
                f"ON {name} BEGIN SELECT RAISE(ABORT, '{name} is append-only'); END"
            ).execute_if(dialect="sqlite"),
        )
    for statement in (
        f"""CREATE OR REPLACE FUNCTION {name}_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION '{name} is append-only'; END $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}",
        f"""CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
           ON {name} FOR EACH STATEMENT EXECUTE FUNCTION {name}_append_only()""",
    ):
        ddl = DDL(statement)  # type: ignore[no-untyped-call]
        event.listen(table, "after_create", ddl.execute_if(dialect="postgresql"))
