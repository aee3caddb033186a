"""Read models: the caseload tables at the shape of this plantrail, rebuilt from the events.

Commits de05b81 (2026-12-04: ``plantrail_plan_participants``), 0c89834 and 8f4d738 (2026-12-07:
the near-copy columns of ``plantrail_caseload`` and ``plantrail_review_verdicts``) changed the
read models, until now by dropping outdated tables whenever the store was opened. The read
models hold nothing that is not computed from the events, so this step, unlike every other,
uses the tables as the code defines them today: any read-model table whose columns differ is
dropped with the others and all are created empty; the next catch-up recomputes every plan's
rows. Any later change to a read-model table adds a step that calls ``replace_read_models``.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import inspect

from plantrail.projections import caseload

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def replace_read_models() -> None:
    bind = op.get_bind()
    found = inspect(bind)
    outdated = [
        table
        for table in caseload.TABLES
        if found.has_table(table.name)
        and {c.name for c in table.columns} != {c["name"] for c in found.get_columns(table.name)}
    ]
    if outdated:
        caseload.metadata.drop_all(bind, tables=list(caseload.TABLES))
    caseload.metadata.create_all(bind)


def upgrade() -> None:
    replace_read_models()
