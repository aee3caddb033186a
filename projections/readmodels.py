"""Registration of the read-model tables on the store (ADR 0005).

The cross-plan read models (``plantrail.projections.caseload``) are maintained by a tracked,
per-plan catch-up rather than inline: their findings depend on today's date, so they must be
recomputable without a new event. Their tables are created with the event store's.
"""

from __future__ import annotations

from plantrail.projections import caseload
from plantrail.projections.store.recorder import SqlPlanRecorder


def attach_read_models(recorder: SqlPlanRecorder) -> None:
    """Register every read-model table on ``recorder`` (created by ``create_tables``)."""
    if caseload.metadata not in recorder.extra_metadata:
        recorder.extra_metadata.append(caseload.metadata)
