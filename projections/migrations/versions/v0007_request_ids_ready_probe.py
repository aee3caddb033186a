"""Observability: the access log's request id, and the readiness probe's table.

Commit 4b6ff4f (2026-12-07) added ``plantrail_access_log.request_id`` (the ``X-Request-ID`` a
response echoes, carried into the access-log row) and ``plantrail_ready_probe`` (the one-row
table ``GET /ready`` writes to prove the store takes a write). Adding a nullable column rewrites
no row of the access log and changes no row's hash (a row's hashed content holds the request id
only when it is set).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from plantrail.projections.migrations.checks import columns, has_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if has_table("plantrail_access_log") and "request_id" not in columns("plantrail_access_log"):
        op.add_column(
            "plantrail_access_log",
            sa.Column(
                "request_id",
                sa.String(64),
                nullable=True,
                comment="the request's X-Request-ID, as echoed to the caller and in the "
                "server's log",
            ),
        )
    if not has_table("plantrail_ready_probe"):
        op.create_table(
            "plantrail_ready_probe",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column(
                "checked_at_us", sa.BigInteger, nullable=False, comment="µs since 1970-01-01 UTC"
            ),
            comment="GET /ready's write probe: one row, the time of the last probe; no clinical "
            "data",
        )
