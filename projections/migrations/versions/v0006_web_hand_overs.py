"""Web pages: hand-overs, the clinician's device showing a client only the plan's screen.

Commit 45f6030 (2026-12-07) added ``plantrail_web_hand_overs``, one row per session handed
over to a client, until now created whenever the pages started.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from plantrail.projections.migrations.checks import has_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if has_table("plantrail_web_hand_overs"):
        return
    op.create_table(
        "plantrail_web_hand_overs",
        sa.Column(
            "session_hash", sa.String(64), primary_key=True, comment="the session handed over"
        ),
        sa.Column("plan_id", sa.String(36), nullable=False, comment="the one plan it shows"),
        sa.Column("started_at_us", sa.BigInteger, nullable=False),
        sa.Column(
            "finished_at_us", sa.BigInteger, nullable=True, comment="the client signed or declined"
        ),
    )
