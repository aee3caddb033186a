"""Caseload-wide views answered from the SQL read models (``plantrail.projections.caseload``).

Every request first catches up the plans whose rows are behind their events or were computed
on an earlier day (a no-op most of the time), then answers with one indexed query, filtered by
the caller's reach in SQL: plans outside it are never read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plantrail.projections.caseload import (
    catch_up,
    query_caseload,
    query_copy_forward,
    query_findings,
)
from plantrail.projections.store.factory import recorder_of

if TYPE_CHECKING:
    from plantrail.api.http.caseload_views import CaseloadFilters
    from plantrail.api.http.context import AppContext
    from plantrail.projections.accounts import Principal


class ReadModelCaseload:
    """``CaseloadSource`` over the read-model tables."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.recorder = recorder_of(ctx.service)

    def _fresh(self) -> None:
        catch_up(self.ctx.service, self.recorder)

    def caseload(self, caller: Principal, filters: CaseloadFilters) -> list[dict[str, Any]]:
        from plantrail.api.http.caseload_views import reach_of

        self._fresh()
        return query_caseload(
            self.recorder,
            reach_of(caller),
            clinician_id=filters.clinician_id,
            status=filters.status,
            flag=filters.flag,
        )

    def findings(self, caller: Principal) -> list[dict[str, Any]]:
        from plantrail.api.http.caseload_views import reach_of

        self._fresh()
        return query_findings(self.recorder, reach_of(caller))

    def copy_forward(self, caller: Principal) -> dict[str, Any]:
        from plantrail.api.http.caseload_views import reach_of

        self._fresh()
        return query_copy_forward(self.recorder, reach_of(caller))
