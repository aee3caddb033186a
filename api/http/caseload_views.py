"""Views across the caller's caseload: ``GET /plans``, ``GET /reports/findings`` and
``GET /reports/copy-forward``.

``caseload_source`` answers them from the SQL read models (``plantrail.projections.caseload``),
caught up on each request, with the caller's reach (``reach_of``, the same rule as every other
read) applied in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from plantrail.api.http.context import AppContext
from plantrail.projections.accounts import Principal
from plantrail.projections.caseload import Reach


@dataclass(frozen=True)
class CaseloadFilters:
    clinician_id: str | None = None
    status: str | None = None
    flag: str | None = None


class CaseloadSource(Protocol):
    def caseload(self, caller: Principal, filters: CaseloadFilters) -> list[dict[str, Any]]: ...

    def findings(self, caller: Principal) -> list[dict[str, Any]]: ...

    def copy_forward(self, caller: Principal) -> dict[str, Any]: ...


def caseload_source(ctx: AppContext) -> CaseloadSource:
    """Where caseload-wide views come from: the SQL read models, caught up on each request."""
    from plantrail.api.http.caseload_read_models import ReadModelCaseload

    return ReadModelCaseload(ctx)


def reach_of(caller: Principal) -> Reach:
    """The caller's reach as the read models express it (same rule as ``can_read_plan``)."""
    if caller.role == "auditor":
        return Reach(all_plans=True)
    if caller.role == "clinician":
        return Reach(clinician_ids=(caller.user_id,))
    if caller.role == "supervisor":
        return Reach(clinician_ids=tuple(sorted(caller.supervisees)), supervisor_id=caller.user_id)
    return Reach()
