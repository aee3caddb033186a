"""Registration of the read-model tables on the store (ADR 0005).

The cross-plan read models (``plantrail.projections.caseload``) are maintained by a tracked,
per-plan catch-up rather than inline: their findings depend on today's date, so they must be
recomputable without a new event. Their tables are created with the event store's.

Read models hold nothing that is not computed from the events, so a store whose read-model
tables predate a column (the near-copy verdict's, for example) has them dropped and created
afresh by ``plantrail migrate`` (step 0005, ADR 0019): the next catch-up finds every plan
without rows and recomputes them.
"""

from __future__ import annotations

from plantrail.projections import caseload
from plantrail.projections.store.recorder import SqlPlanRecorder


def attach_read_models(recorder: SqlPlanRecorder) -> None:
    """Register every read-model table on ``recorder`` (created by ``create_tables``)."""
    if caseload.metadata not in recorder.extra_metadata:
        recorder.extra_metadata.append(caseload.metadata)
