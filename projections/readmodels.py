"""Registration of the read-model tables on the store (ADR 0005).

The cross-plan read models (``plantrail.projections.caseload``) are maintained by a tracked,
per-plan catch-up rather than inline: their findings depend on today's date, so they must be
recomputable without a new event. Their tables are created with the event store's.

Read models hold nothing that is not computed from the events, so a store whose read-model
tables predate a column (the near-copy verdict's, for example) has them dropped and created
afresh: the next catch-up finds every plan without rows and recomputes them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from plantrail.projections import caseload
from plantrail.projections.store.recorder import SqlPlanRecorder


class _ReadModelTables:
    """The read models' metadata as the store creates it: outdated tables are replaced."""

    metadata = caseload.metadata

    def create_all(self, engine: Engine) -> None:
        existing = inspect(engine)
        outdated = [
            table
            for table in caseload.TABLES
            if existing.has_table(table.name)
            and {c.name for c in table.columns}
            - {c["name"] for c in existing.get_columns(table.name)}
        ]
        if outdated:
            caseload.metadata.drop_all(engine, tables=list(caseload.TABLES))
        caseload.metadata.create_all(engine)


READ_MODELS: Any = _ReadModelTables()


def attach_read_models(recorder: SqlPlanRecorder) -> None:
    """Register every read-model table on ``recorder`` (created by ``create_tables``)."""
    if READ_MODELS not in recorder.extra_metadata:
        recorder.extra_metadata.append(READ_MODELS)
