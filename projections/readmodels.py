"""Read models kept in SQL tables, updated in the same transaction as the events (ADR 0005).

Issue #3 fills this in (caseload, findings, copy-forward); today it registers nothing.
"""

from __future__ import annotations

from plantrail.projections.store.recorder import SqlPlanRecorder


def attach_read_models(recorder: SqlPlanRecorder) -> None:
    """Register every inline read model and its tables on ``recorder``."""
    del recorder
