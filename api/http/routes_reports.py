"""Reports across the caller's caseload (each plan within the caller's reach only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from plantrail.api.http.auth import READ_PLANS
from plantrail.api.http.caseload_views import caseload_source
from plantrail.api.http.common import context
from plantrail.api.http.context import access_entry
from plantrail.api.http.errors import problem_responses
from plantrail.api.http.schemas import CopyForwardReport, FindingsReport
from plantrail.projections.accounts import Principal

router = APIRouter(prefix="/reports", tags=["reports"], responses=problem_responses(401, 403, 503))

Reader = Annotated[Principal, Depends(READ_PLANS)]


@router.get(
    "/copy-forward",
    summary="Plans with copied-forward reviews, and objective statements reused across clients",
)
def copy_forward_report(request: Request, caller: Reader) -> CopyForwardReport:
    access_entry(request).action = "report:copy-forward"
    report = caseload_source(context(request)).copy_forward(caller)
    return CopyForwardReport.model_validate(report)


@router.get("/findings", summary="Audit findings across the caseload")
def findings_report(request: Request, caller: Reader) -> FindingsReport:
    access_entry(request).action = "report:findings"
    findings = caseload_source(context(request)).findings(caller)
    return FindingsReport.model_validate({"findings": findings})
