"""Views across the caller's caseload: ``GET /plans``, ``GET /reports/findings`` and
``GET /reports/copy-forward``.

``caseload_source`` is the one switch: today it returns ``ScanningCaseload``, which walks the
plans the caller may see (``PlanGateway.visible_plan_ids``, the same reach rule as every other
read) and computes each plan's projections from its events. When the SQL read models
(``plantrail.projections.caseload``) are maintained with the events, ``caseload_source`` returns
an object answering the same three questions from ``query_caseload`` / ``query_findings`` /
``query_copy_forward`` with ``reach_of(caller)``; nothing else changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from plantrail.api.http.context import AppContext
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState, fold
from plantrail.projections.accounts import Principal
from plantrail.projections.caseload import Reach
from plantrail.projections.document import next_review_due
from plantrail.projections.normalise import normalise_text


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


@dataclass
class _Plan:
    plan_id: UUID
    events: list[PlanEvent]
    state: PlanState
    findings: list[dict[str, Any]]
    reviews: list[dict[str, Any]]


class ScanningCaseload:
    """Computes caseload views plan by plan from the events of the plans the caller may see."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _plans(self, caller: Principal) -> list[_Plan]:
        from plantrail.api.http.routes_views import rule_profile
        from plantrail.projections.findings import plan_findings
        from plantrail.projections.reviews import review_history

        service = self.ctx.service
        today = self.today()
        out: list[_Plan] = []
        for plan_id in self.ctx.gateway.visible_plan_ids(caller):
            events = service.events_of(plan_id)
            state = fold(events)
            if state is None:
                continue
            out.append(
                _Plan(
                    plan_id,
                    events,
                    state,
                    plan_findings(state, events, rule_profile(self.ctx), today),
                    review_history(events, late_entry_days=service.late_entry_days),
                )
            )
        return out

    def today(self) -> date:
        return self.ctx.service.clock().date()

    def caseload(self, caller: Principal, filters: CaseloadFilters) -> list[dict[str, Any]]:
        today = self.today()
        rows: list[dict[str, Any]] = []
        for plan in self._plans(caller):
            state = plan.state
            due = next_review_due(state)
            overdue = state.status == "active" and today > due
            copied = sum(1 for r in plan.reviews if _verdict(r) == "copied_forward")
            flags = {str(f["code"]) for f in plan.findings}
            if copied:
                flags.add("copied_forward")
            if overdue:
                flags.add("review_overdue")
            row = {
                "plan_id": str(plan.plan_id),
                "version": state.version,
                "client": state.client.model_dump(mode="json"),
                "clinician": {"user_id": state.clinician.user_id, "name": state.clinician.name},
                "supervisor_id": state.supervisor.user_id if state.supervisor else None,
                "status": state.status,
                "effective_date": state.effective_date.isoformat(),
                "next_review_due": due.isoformat(),
                "review_overdue": overdue,
                "reviews_completed": len(state.completed_reviews),
                "copied_forward_reviews": copied,
                "findings_count": len(plan.findings),
                "flags": sorted(flags),
            }
            if filters.clinician_id is not None and state.clinician.user_id != filters.clinician_id:
                continue
            if filters.status is not None and state.status != filters.status:
                continue
            if filters.flag is not None and filters.flag not in flags:
                continue
            rows.append(row)
        rows.sort(key=lambda r: (str(r["client"]["name"]), str(r["plan_id"])))
        return rows

    def findings(self, caller: Principal) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for plan in self._plans(caller):
            header = {
                "plan_id": str(plan.plan_id),
                "client_name": plan.state.client.name,
                "clinician_id": plan.state.clinician.user_id,
            }
            out.extend({**header, **finding} for finding in plan.findings)
        return out

    def copy_forward(self, caller: Principal) -> dict[str, Any]:
        plans: list[dict[str, Any]] = []
        statements: dict[str, list[dict[str, Any]]] = {}
        for plan in self._plans(caller):
            state = plan.state
            for objective in state.objectives.values():
                normalised = normalise_text(objective.statement)
                key = hashlib.sha256(normalised.encode()).hexdigest()
                statements.setdefault(key, []).append(
                    {
                        "statement": objective.statement,
                        "normalised": normalised,
                        "client_id": state.client.id,
                        "plan_id": str(plan.plan_id),
                        "objective_id": objective.id,
                        "label": objective.label,
                        "client_name": state.client.name,
                        "clinician_id": state.clinician.user_id,
                    }
                )
            verdicts = [
                {
                    "review_id": r.get("id"),
                    "label": r.get("label"),
                    "completed_on": r.get("effective_date"),
                    "verdict": _verdict(r),
                    "similarity": (r.get("copy_forward") or {}).get("similarity"),
                    "streak": (r.get("copy_forward") or {}).get("streak", 0),
                    "summary_repeated": (r.get("copy_forward") or {}).get("summary_repeated"),
                }
                for r in plan.reviews
            ]
            copied = sum(1 for v in verdicts if v["verdict"] == "copied_forward")
            if not copied:
                continue
            streaks = [int(v["streak"] or 0) for v in verdicts]
            plans.append(
                {
                    "plan_id": str(plan.plan_id),
                    "client_name": state.client.name,
                    "clinician_id": state.clinician.user_id,
                    "reviews_completed": len(verdicts),
                    "copied_forward_reviews": copied,
                    "current_streak": streaks[-1] if streaks else 0,
                    "longest_streak": max(streaks, default=0),
                    "reviews": verdicts,
                }
            )
        plans.sort(key=lambda p: (-int(p["longest_streak"]), str(p["client_name"])))
        reused = []
        for uses in statements.values():
            clients = {u["client_id"] for u in uses}
            if len(clients) < 2:
                continue
            reused.append(
                {
                    "statement": uses[0]["statement"],
                    "normalised": uses[0]["normalised"],
                    "clients": len(clients),
                    "uses": [
                        {
                            k: u[k]
                            for k in (
                                "plan_id",
                                "objective_id",
                                "label",
                                "client_name",
                                "clinician_id",
                            )
                        }
                        for u in sorted(uses, key=lambda u: str(u["client_name"]))
                    ],
                }
            )
        return {"plans": plans, "reused_objectives": reused}


def _verdict(review: dict[str, Any]) -> str | None:
    copy_forward = review.get("copy_forward")
    return copy_forward.get("verdict") if isinstance(copy_forward, dict) else None
