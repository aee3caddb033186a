"""Alembic's environment for ``plantrail migrate``, configured in code (``runner.py``): no
``alembic.ini`` at run time. It runs on the connection the runner hands it (the app's engine,
a write connection: ``BEGIN IMMEDIATE`` on SQLite), with the version table named
``plantrail_schema_version`` and one transaction per step."""

from __future__ import annotations

from alembic import context

from plantrail.projections.migrations import VERSION_TABLE

_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("run plantrail's migrations with `plantrail migrate`, not `alembic`")

context.configure(
    connection=_connection,
    target_metadata=context.config.attributes.get("target_metadata"),
    version_table=VERSION_TABLE,
    transaction_per_migration=True,
)

with context.begin_transaction():
    context.run_migrations()
