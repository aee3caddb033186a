"""The access log's pending rows: a write's access-log row stored with its events.

Commit 3bd31d3 (2026-12-07) added ``plantrail_access_pending``: the group commit chains each
row into the log and deletes it here, so no stored change is ever missing from the accounting
of disclosures after a crash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from plantrail.projections.migrations.checks import has_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if has_table("plantrail_access_pending"):
        return
    op.create_table(
        "plantrail_access_pending",
        sa.Column("id", sa.String(32), primary_key=True, comment="the request's pending id"),
        sa.Column(
            "recorded_at_us", sa.BigInteger, nullable=False, comment="µs since 1970-01-01 UTC"
        ),
        sa.Column("row", sa.Text, nullable=False, comment="the access-log row, as JSON"),
    )
