"""Views across a caller's caseload (the plans list, the findings report, the copy-forward
report), answered from the SQL read models (``plantrail.projections.caseload``).

Every request first catches up the plans whose rows are behind their events or were computed on
an earlier day (a no-op most of the time), then answers with one indexed query filtered by the
caller's reach in SQL (``policy.Reach.clause``): plans outside it are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from plantrail.domain.service import PlanService
from plantrail.projections.access.policy import Principal, reach_of
from plantrail.projections.assembly import recorder_of
from plantrail.projections.caseload import (
    catch_up,
    client_identities,
    query_caseload,
    query_copy_forward,
    query_findings,
    query_shared_statements,
    query_statement_elsewhere,
)
from plantrail.projections.continuation import SharedStatement


@dataclass(frozen=True)
class CaseloadFilters:
    clinician_id: str | None = None
    status: str | None = None
    flag: str | None = None


class CaseloadViews:
    """The caseload read models, caught up on each request and read within a caller's reach."""

    def __init__(self, service: PlanService) -> None:
        self.service = service
        self.recorder = recorder_of(service)

    def _fresh(self, skip: frozenset[UUID] = frozenset()) -> None:
        catch_up(self.service, self.recorder, skip=skip)

    def client_identities(self, client_id: str) -> set[tuple[str, date]]:
        """Every (name, date of birth) a plan gives the client with this MRN, across all plans
        (no caller's reach: the engine's own check before a plan is opened)."""
        self._fresh()
        return client_identities(self.recorder, client_id)

    def caseload(self, caller: Principal, filters: CaseloadFilters) -> list[dict[str, Any]]:
        self._fresh()
        return query_caseload(
            self.recorder,
            reach_of(caller),
            clinician_id=filters.clinician_id,
            status=filters.status,
            flag=filters.flag,
        )

    def findings(self, caller: Principal, clinician_id: str | None = None) -> list[dict[str, Any]]:
        self._fresh()
        return query_findings(self.recorder, reach_of(caller), clinician_id=clinician_id)

    def copy_forward(self, caller: Principal, clinician_id: str | None = None) -> dict[str, Any]:
        self._fresh()
        return query_copy_forward(self.recorder, reach_of(caller), clinician_id=clinician_id)

    def shared_statements(self, plan_id: UUID, client_id: str) -> list[SharedStatement]:
        """This plan's objective statements used verbatim (after normalisation) in a plan of
        another client, each with how many other clients: counted, never named, because the
        caller may not reach those plans. Answered from the read model, which is caught up
        first but may still lag a write another process is making."""
        self._fresh()
        return query_shared_statements(self.recorder, plan_id, client_id)

    def statement_elsewhere(self, text: str, client_id: str, plan_id: UUID | None = None) -> int:
        """How many other clients' plans use ``text`` verbatim after the read model's
        normalisation (its fingerprint); as ``shared_statements``, it may lag a write. The
        plan being written (``plan_id``) is not caught up: its client's plans are not counted,
        and recomputing it folded its whole history on every submission (docs/performance.md,
        figure 11)."""
        self._fresh(frozenset({plan_id}) if plan_id is not None else frozenset())
        return query_statement_elsewhere(self.recorder, text, client_id)
