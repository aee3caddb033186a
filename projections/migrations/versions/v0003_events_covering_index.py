"""Events: the covering index for reads on an effective date (ADR 0017).

Commit 990ad65 (2026-12-04) replaced the index ``plantrail_events_effective`` (plan, effective
date) by ``plantrail_events_effective_version`` (plan, effective date, version), until now
created whenever the store was opened. The old index is dropped: the new one begins with the
same columns and serves every query it served. Indexes only: no row of the append-only event
table is touched.
"""

from __future__ import annotations

from alembic import op

from plantrail.projections.migrations.checks import has_table, indexes

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not has_table("plantrail_events"):
        return
    present = indexes("plantrail_events")
    if "plantrail_events_effective_version" not in present:
        op.create_index(
            "plantrail_events_effective_version",
            "plantrail_events",
            ["originator_id", "effective_date", "originator_version"],
        )
    if "plantrail_events_effective" in present:
        op.drop_index("plantrail_events_effective", table_name="plantrail_events")
