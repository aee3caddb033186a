"""The pages that read plans: caseload, plan (now, as of an instant, in effect on a date),
history with rationale, reviews with score charts, diff, findings (per plan and across the
caseload) and the integrity check. Each reads through ``PlanGateway`` with the signed-in
caller, exactly as the API's routes do: a plan outside the caller's reach is the same 404 page
as a plan that does not exist, and each page view is one access-log record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from math import ceil
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from plantrail.api.packet.responses import packet_response
from plantrail.api.rendering.charts import measure_chart
from plantrail.api.rendering.templating import page
from plantrail.api.rendering.word_diff import word_diff
from plantrail.api.routing import metrics
from plantrail.api.routing.access import READ_PLANS
from plantrail.api.routing.common import PlanId, context
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.reads import events_and_state, point, rule_profile
from plantrail.api.web.checkpoints import last_checkpoint
from plantrail.api.web.routes_writes import new_form_id
from plantrail.domain.errors import InvalidInput, StorageError
from plantrail.domain.plan import PlanState
from plantrail.projections.access.caseload_views import CaseloadFilters
from plantrail.projections.access.policy import Principal
from plantrail.projections.assembly import recorder_of
from plantrail.projections.diff import fmt, plan_diff
from plantrail.projections.document import plan_document
from plantrail.projections.findings import FINDINGS, plan_findings
from plantrail.projections.history import event_history
from plantrail.projections.integrity.verify import verify
from plantrail.projections.reviews import review_history
from plantrail.projections.revisions import revision_log
from plantrail.projections.service_dates import parse_service_dates
from plantrail.projections.signatures import unsigned_warning
from plantrail.projections.vocabulary import field_path, word

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, Depends(READ_PLANS)]

PAGE_SIZE = 50
SORTS = {
    "client": lambda r: (r["client"]["name"].lower(), r["plan_id"]),
    "clinician": lambda r: (r["clinician"]["name"].lower(), r["client"]["name"].lower()),
    "status": lambda r: (r["status"], r["client"]["name"].lower()),
    "next_due": lambda r: ((r["next_due"] or {}).get("date") or "9999", r["client"]["name"]),
    "findings": lambda r: (-r["findings_count"], r["client"]["name"].lower()),
}
FLAGS = {
    **{code.lower(): kind.title for code, kind in FINDINGS.items()},
    "nearly_copied_forward": "Some review nearly copied forward",
}
"""The caseload filter: every finding once, by its code, shown by its title (the badges and the
filter follow the findings; ``copied_forward`` stays accepted as the older name of
``review_copied_forward``)."""
_FLAG_ALIASES = {"copied_forward": "review_copied_forward"}
SEVERITIES = ("error", "warning", "info")


# ------------------------------------------------------------------------------ caseload
@router.get("/", name="web_caseload")
def caseload_page(
    request: Request,
    caller: Reader,
    clinician: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(pattern="^(|draft|active|discharged)$")] = None,
    flag: Annotated[str | None, Query(max_length=60)] = None,
    sort: Annotated[str, Query(pattern="^(client|clinician|status|next_due|findings)$")] = "client",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    ctx = context(request)
    access_entry(request).action = "view:caseload"
    flag = _FLAG_ALIASES.get((flag or "").lower(), (flag or "").lower()) or None
    if flag and flag not in FLAGS:
        raise InvalidInput.on("flag", f"no finding or flag {flag!r}")
    rows = ctx.gateway.caseload(caller, CaseloadFilters(status=status or None, flag=flag or None))
    clinicians = sorted({(r["clinician"]["user_id"], r["clinician"]["name"]) for r in rows},
                        key=lambda c: c[1])  # fmt: skip
    if clinician:
        rows = [r for r in rows if r["clinician"]["user_id"] == clinician]
    rows.sort(key=SORTS[sort])
    pages = max(1, ceil(len(rows) / PAGE_SIZE))
    number = min(page_number, pages)
    shown = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    filters = {"clinician": clinician or "", "status": status or "", "flag": flag or ""}

    def link(**changes: Any) -> str:
        query = {**filters, "sort": sort, "page": number, **changes}
        return "?" + urlencode({k: v for k, v in query.items() if v not in ("", None)})

    return page(
        request,
        "caseload.html",
        title="Caseload",
        rows=shown,
        total=len(rows),
        page_number=number,
        pages=pages,
        first=(number - 1) * PAGE_SIZE + 1 if rows else 0,
        last=(number - 1) * PAGE_SIZE + len(shown),
        filters=filters,
        sort=sort,
        sorts=list(SORTS),
        clinicians=clinicians,
        flags=FLAGS,
        link=link,
    )


# ---------------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class Moment:
    """Which view of the plan a page shows."""

    as_of: datetime | None
    effective_on: date | None

    @property
    def current(self) -> bool:
        return self.as_of is None and self.effective_on is None

    def query(self) -> str:
        found = {}
        if self.as_of is not None:
            found["as_of"] = self.as_of.strftime("%Y-%m-%dT%H:%M")
        if self.effective_on is not None:
            found["effective_on"] = self.effective_on.isoformat()
        return "?" + urlencode(found) if found else ""


def _moment(as_of: str | None, effective_on: str | None) -> Moment:
    instant = None
    if as_of:
        try:
            instant = datetime.fromisoformat(as_of.strip())
        except ValueError:
            raise InvalidInput.on(
                "as_of", f"{as_of!r} is not a date and time (YYYY-MM-DDTHH:MM, UTC)"
            ) from None
        # The page speaks UTC throughout: a time without a zone is UTC, one with a zone is
        # shown converted.
        instant = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
    day = None
    if effective_on:
        try:
            day = date.fromisoformat(effective_on.strip())
        except ValueError:
            raise InvalidInput.on(
                "effective_on", f"{effective_on!r} is not a date (YYYY-MM-DD)"
            ) from None
    return Moment(instant, day)


@router.get("/plans/{plan_id}", name="web_plan")
async def plan_page(
    request: Request,
    plan_id: PlanId,
    caller: Reader,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
    effective_on: Annotated[str | None, Query(max_length=20)] = None,
    emergency: bool = False,
) -> HTMLResponse:
    """The plan; ``emergency``: shown to a reader outside its reach through the break-glass
    form (``routes_rights``), which put the reason on the request's access-log entry."""
    ctx = context(request)
    entry = access_entry(request)
    moment = _moment(as_of, effective_on)
    today = ctx.service.clock().date()

    def read() -> dict[str, Any]:
        if moment.current:  # the service's in-process state, as GET /plans/{id} reads it
            return ctx.gateway.current(
                caller,
                plan_id,
                entry,
                lambda state: {
                    **plan_document(state, today=today),
                    # The co-sign form warns of what the clinician has not signed.
                    "unsigned_warning": unsigned_warning(state),
                },
            )
        state = ctx.gateway.state(
            caller, plan_id, entry, as_of=moment.as_of, effective_on=moment.effective_on
        )
        day = today if moment.as_of is None else min(today, moment.as_of.astimezone(UTC).date())
        day = day if moment.effective_on is None else min(day, moment.effective_on)
        return plan_document(state, today=day)

    document = await anyio.to_thread.run_sync(read, limiter=ctx.limiter)
    approved = any(
        s["signer_id"] == caller.user_id and s["role"] == "supervisor" and s["status"] == "current"
        for s in document["signatures"]
    )
    return page(
        request,
        "plan.html",
        title=f"{document['client']['name']}: treatment plan",
        plan=document,
        moment=moment,
        labels=_labels(document),
        tab="plan",
        # The co-signature is offered on the current plan only: one signs what is in the chart.
        can_cosign=caller.role == "supervisor"
        and moment.current
        and document["status"] != "discharged"
        and not approved,
        form_id=new_form_id(),
        signed=request.query_params.get("signed") == "1",
        emergency=entry.break_glass_reason if emergency else None,
        # The plan's clinician records a request and its steps (ADR 0012), on the current plan,
        # discharged or not: the right to amend lasts as long as the record (ADR 0015).
        can_amend=caller.role == "clinician"
        and moment.current
        and (document.get("clinician") or {}).get("user_id") == caller.user_id,
        # The plan's clinician's forms (scores, signing, hand-over, discharge): the current
        # plan only, while it is not discharged (docs/web.md, "Writing from the pages").
        can_write=caller.role == "clinician"
        and moment.current
        and document["status"] != "discharged"
        and (document.get("clinician") or {}).get("user_id") == caller.user_id,
        saved=request.query_params.get("saved"),
    )


def _labels(document: dict[str, Any]) -> dict[str, str]:
    """Item id → its label (Problem 1, Goal 1, Objective 1.2), to name links by label."""
    found: dict[str, str] = {}
    for kind in ("problems", "goals", "objectives", "interventions"):
        for item in document[kind]:
            found[item["id"]] = item["label"]
    return found


# ------------------------------------------------------------------------------- history
@router.get("/plans/{plan_id}/history", name="web_history")
def history_page(request: Request, plan_id: PlanId, caller: Reader) -> HTMLResponse:
    ctx = context(request)
    events, state = events_and_state(ctx, caller, plan_id, request, "revisions")
    log = revision_log(events, late_entry_days=ctx.service.late_entry_days)
    types = {row["version"]: row["type"] for row in event_history(events)}
    return page(
        request,
        "history.html",
        title=f"{state.client.name}: history",
        plan=_header(state),
        log=log,
        types=types,
        missing=sum(1 for row in log if row["missing_rationale"]),
        tab="history",
        # Notes on past entries: the plan's clinician answers a request or fills a missing
        # rationale; a supervisor asks for one. The entry itself is never changed.
        note_kind=(
            "rationale"
            if caller.role == "clinician" and caller.user_id == state.clinician.user_id
            else "rationale_request"
            if caller.role == "supervisor"
            else None
        ),
        form_id=new_form_id(),
    )


# ------------------------------------------------------------------------------ findings
@router.get("/plans/{plan_id}/findings", name="web_findings")
def findings_page(request: Request, plan_id: PlanId, caller: Reader) -> HTMLResponse:
    ctx = context(request)
    events, state = events_and_state(ctx, caller, plan_id, request, "findings")
    found = plan_findings(state, events, rule_profile(ctx), ctx.service.clock().date())
    grouped = {s: [f for f in found if f["severity"] == s] for s in SEVERITIES}
    return page(
        request,
        "findings.html",
        title=f"{state.client.name}: findings",
        plan=_header(state),
        grouped=grouped,
        total=len(found),
        kinds=FINDINGS,
        tab="findings",
    )


def _header(state: PlanState) -> dict[str, Any]:
    """What the plan pages' heading and tabs need of the plan."""
    return {
        "plan_id": str(state.plan_id),
        "client": {"name": state.client.name, "id": state.client.id},
        "version": state.version,
    }


# ---------------------------------------------------------------------------------- diff
@router.get("/plans/{plan_id}/diff", name="web_diff")
def diff_page(
    request: Request,
    plan_id: PlanId,
    caller: Reader,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    ctx = context(request)
    entry = access_entry(request)
    latest = ctx.gateway.state(caller, plan_id, entry, view="diff")
    start = (from_ or "").strip() or str(max(1, latest.version - 1))
    end = (to or "").strip() or str(latest.version)
    start_version, start_at = point("from", start)
    end_version, end_at = point("to", end)
    before = ctx.gateway.state(
        caller, plan_id, entry, view="diff", version=start_version, as_of=start_at
    )
    after = ctx.gateway.state(
        caller, plan_id, entry, view="diff", version=end_version, as_of=end_at
    )
    changes = plan_diff(before, after)["changes"]
    for change in changes:
        was, now = change["before"], change["after"]
        if change["kind"] == "changed" and isinstance(was, str) and isinstance(now, str):
            change["pieces"] = word_diff(was, now)
        else:
            change["shown"] = (
                fmt(was) if was is not None else "",
                fmt(now) if now is not None else "",
            )
    return page(
        request,
        "diff.html",
        title=f"{latest.client.name}: changes",
        plan=_header(latest),
        changes=changes,
        start=start,
        end=end,
        from_version=before.version,
        to_version=after.version,
        tab="diff",
    )


# -------------------------------------------------------------------------------- verify
@router.get("/plans/{plan_id}/verify", name="web_verify")
def verify_page(request: Request, plan_id: PlanId, caller: Reader) -> HTMLResponse:
    ctx = context(request)
    _, state = events_and_state(ctx, caller, plan_id, request, "verify")
    recorder = recorder_of(ctx.service)
    if recorder.chain_key is None:
        raise StorageError("no chain key is loaded: the chain cannot be checked")
    checkpoint = last_checkpoint(ctx.service)
    report = verify(recorder, recorder.chain_key, plan_id=plan_id, checkpoint=checkpoint.signed)
    metrics.verified(report.ok)
    signed_head = checkpoint.signed.heads_by_plan().get(str(plan_id)) if checkpoint.signed else None
    return page(
        request,
        "verify.html",
        title=f"{state.client.name}: integrity",
        plan=_header(state),
        report=report,
        checkpoint=checkpoint,
        signed_head=signed_head,
        tab="verify",
    )


# ------------------------------------------------------------------------------- reviews
@router.get("/plans/{plan_id}/reviews", name="web_reviews")
def reviews_page(request: Request, plan_id: PlanId, caller: Reader) -> HTMLResponse:
    ctx = context(request)
    events, state = events_and_state(ctx, caller, plan_id, request, "reviews")
    history = review_history(
        events, late_entry_days=ctx.service.late_entry_days, profile=rule_profile(ctx)
    )
    document = plan_document(state, today=ctx.service.clock().date())
    marks = [(r["label"], r["effective_date"]) for r in history]
    for review in history:
        for change in (review["copy_forward"] or {}).get("changes", []):
            change["words"] = _change_words(change)
    charts = [
        measure_chart(objective, document["measurements"], marks)
        for objective in document["objectives"]
        if objective["measure"] is not None
        or any(m["objective_id"] == objective["id"] for m in document["measurements"])
    ]
    return page(
        request,
        "reviews.html",
        title=f"{state.client.name}: reviews",
        plan=_header(state),
        reviews=history,
        charts=charts,
        tab="reviews",
    )


def _change_words(change: dict[str, Any]) -> str:
    """'objectives[Objective 1.1].status' changed → 'Objective 1.1: status: partially met →
    met'; a yes/no field reads as a sentence ('Score 3: voided', 'no longer voided'). The words
    are the one vocabulary's (``projections/vocabulary.py``)."""
    path = str(change.get("path", ""))
    what = field_path(path)
    if change.get("kind") == "added":
        return f"{what} added: {_value_words(change.get('after'))}"
    if change.get("kind") == "removed":
        return f"{what} removed"
    was, now = change.get("before"), change.get("after")
    if isinstance(was, bool) and isinstance(now, bool):
        head, _, name = what.rpartition(": ")
        return f"{head}: {name}" if now else f"{head}: no longer {name}"
    return f"{what}: {_value_words(was)} → {_value_words(now)}"


def _value_words(value: Any) -> str:
    return word(value) if isinstance(value, str | bool) else fmt(value)


# --------------------------------------------------------------------- caseload findings
@router.get("/findings", name="web_caseload_findings")
def caseload_findings_page(
    request: Request,
    caller: Reader,
    severity: Annotated[str | None, Query(pattern="^(|error|warning|info)$")] = None,
    code: Annotated[str | None, Query(max_length=60)] = None,
) -> HTMLResponse:
    ctx = context(request)
    access_entry(request).action = "view:findings-report"
    if code and code not in FINDINGS:
        raise InvalidInput.on("code", f"no finding {code!r}")
    found = ctx.gateway.caseload_findings(caller)
    counts = {s: sum(1 for f in found if f["severity"] == s) for s in SEVERITIES}
    shown = [
        f
        for f in found
        if (not severity or f["severity"] == severity) and (not code or f["code"] == code)
    ]
    grouped = {s: [f for f in shown if f["severity"] == s] for s in SEVERITIES}
    return page(
        request,
        "caseload_findings.html",
        title="Findings across the caseload",
        grouped=grouped,
        total=len(shown),
        counts=counts,
        kinds=FINDINGS,
        filters={"severity": severity or "", "code": code or ""},
    )


# -------------------------------------------------------------------------------- packet
@router.get("/plans/{plan_id}/packet", name="web_packet", response_model=None)
async def packet_page(
    request: Request,
    plan_id: PlanId,
    caller: Reader,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    dates: Annotated[str | None, Query(max_length=40_000)] = None,
    format_: Annotated[Literal["pdf", "html"], Query(alias="format")] = "pdf",
    paper: Annotated[Literal["letter", "a4"], Query()] = "letter",
) -> Response:
    """The form an auditor or supervisor fills to get a packet; filled in, the packet itself,
    generated by the API's own ``packet_response`` (same reach, same access-log record)."""
    if from_ is not None or to is not None:
        if from_ is None or to is None:
            raise InvalidInput.on("to" if to is None else "from", "a period needs both dates")
        listed = tuple(parse_service_dates(dates)) if dates and dates.strip() else ()
        return await packet_response(
            request, caller, plan_id, from_, to, listed, format_, paper, None
        )
    ctx = context(request)
    state = await anyio.to_thread.run_sync(
        lambda: ctx.gateway.state(caller, plan_id, access_entry(request), view="packet-form"),
        limiter=ctx.limiter,
    )
    # The last year of the plan's service, up to today: what an annual audit asks for.
    end = min(ctx.service.clock().date(), state.discharged_on or state.plan_end_date)
    start = max(state.effective_date, end - timedelta(days=365))
    return page(
        request,
        "packet_form.html",
        title=f"{state.client.name}: audit packet",
        plan=_header(state),
        start=min(start, end).isoformat(),
        end=end.isoformat(),
        tab="packet",
    )
