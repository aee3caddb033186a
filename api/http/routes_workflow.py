"""A plan's workflow: reviews, signatures and co-signature requests, rationales and notes,
amendment requests (45 CFR 164.526), discharge. Supervisors may sign (``supervisor``/
``approved``), revoke their own signature and record rationale requests and comments; everything
else is the plan's clinician's, including every step of an amendment request (ADR 0012)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response

from plantrail.api.routing.access import REQUEST_AMENDMENT, SIGN
from plantrail.api.routing.common import (
    ETAG_HEADER,
    WRITE_RESPONSES,
    IdempotencyKey,
    IfMatch,
    ItemIdPath,
    PlanId,
    Signer,
    Writer,
    context,
    write,
)
from plantrail.api.routing.schemas import (
    AmendmentAcceptBody,
    AmendmentDenyBody,
    AmendmentExtensionBody,
    AmendmentRequestBody,
    CompleteReviewBody,
    DisagreementBody,
    DischargeBody,
    RationaleBody,
    RebuttalBody,
    SignatureBody,
    SignatureRequestBody,
    StartReviewBody,
    WriteFields,
    WriteResult,
)
from plantrail.domain import commands as cmd
from plantrail.domain.errors import InvalidInput
from plantrail.projections.access.policy import Principal

router = APIRouter(prefix="/plans/{plan_id}", tags=["plan workflow"], responses=WRITE_RESPONSES)

CREATED: dict[int | str, dict[str, Any]] = {201: {"description": "Created", "headers": ETAG_HEADER}}
CHANGED: dict[int | str, dict[str, Any]] = {200: {"description": "Changed", "headers": ETAG_HEADER}}


@router.post("/reviews", status_code=201, responses=CREATED, summary="Start a review")
def start_review(
    request: Request,
    response: Response,
    plan_id: PlanId,
    caller: Writer,
    body: Annotated[StartReviewBody | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.StartReview, body, if_match, idempotency_key
    )


@router.post("/reviews/{review_id}/complete", responses=CHANGED, summary="Complete a review")
def complete_review(
    request: Request,
    response: Response,
    plan_id: PlanId,
    review_id: ItemIdPath,
    body: CompleteReviewBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.CompleteReview,
        body,
        if_match,
        idempotency_key,
        review_id=review_id,
    )


@router.post(
    "/signatures",
    status_code=201,
    responses=CREATED,
    summary="Sign the plan (or record a client's or guardian's signature)",
)
def capture_signature(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: SignatureBody,
    caller: Annotated[Principal, Depends(SIGN)],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    fields: dict[str, Any] = {}
    if caller.role == "client":
        # The client signs for themself, under the name the plan gives them; like a signature
        # captured in session it names no user (the event's actor says it came from their link).
        fields["signer_name"] = caller.name
        fields["signer_id"] = None
        fields["signer_credentials"] = None
    elif body.role in ("clinician", "supervisor"):
        # The signer of a clinician's or supervisor's signature is the caller, always.
        fields["signer_id"] = caller.user_id
        if body.signer_name is None:
            fields["signer_name"] = caller.name
        if body.signer_credentials is None and caller.credentials is not None:
            fields["signer_credentials"] = caller.credentials
    elif body.signer_name is None:
        raise InvalidInput.on("signer_name", f"is required for a {body.role}'s signature")
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.CaptureSignature,
        body,
        if_match,
        idempotency_key,
        **fields,
    )


@router.post("/signatures/{item_id}/revoke", responses=CHANGED, summary="Revoke a signature")
def revoke_signature(
    request: Request,
    response: Response,
    plan_id: PlanId,
    item_id: ItemIdPath,
    caller: Signer,
    body: Annotated[WriteFields | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.RevokeSignature,
        body,
        if_match,
        idempotency_key,
        signature_id=item_id,
    )


@router.post(
    "/signature-requests",
    status_code=201,
    responses=CREATED,
    summary="Request a co-signature (pending until that user signs)",
)
def request_signature(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: SignatureRequestBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    if body.role not in ("clinician", "supervisor"):
        raise InvalidInput.on("role", "a co-signature is requested from a clinician or supervisor")
    signer = context(request).accounts.get(body.signer_id)
    if signer is None or signer.disabled or signer.role not in ("clinician", "supervisor"):
        raise InvalidInput.on("signer_id", "is not an active clinician or supervisor")
    if signer.role != body.role:
        raise InvalidInput.on("signer_id", f"is a {signer.role}, not a {body.role}")
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.RequestSignature,
        body,
        if_match,
        idempotency_key,
        signer_name=signer.name,
    )


@router.post("/rationales", responses=CHANGED, summary="Record a rationale, request or comment")
def record_rationale(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: RationaleBody,
    caller: Signer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.RecordRationale, body, if_match, idempotency_key
    )


@router.post("/discharge", responses=CHANGED, summary="Discharge the plan")
def discharge(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: DischargeBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.DischargePlan, body, if_match, idempotency_key
    )


# ---------------------------------------------------- amendment requests (45 CFR 164.526)
@router.post(
    "/amendments",
    status_code=201,
    responses=CREATED,
    summary="A client's request to amend the plan: as received, or filed by the client",
)
def request_amendment(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: AmendmentRequestBody,
    caller: Annotated[Principal, Depends(REQUEST_AMENDMENT)],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    fields: dict[str, Any] = {}
    if caller.role == "client":
        # The client's own request: received when it arrives, under the plan's name for them.
        fields["received_on"] = context(request).service.clock().date()
        fields["requested_by"] = f"{caller.name} (the client, through their access link)"
    else:
        for name in ("received_on", "requested_by"):
            if getattr(body, name) is None:
                raise InvalidInput.on(name, "is required when the clinician records a request")
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.RequestAmendment,
        body,
        if_match,
        idempotency_key,
        **fields,
    )


@router.post(
    "/amendments/{amendment_id}/extend",
    responses=CHANGED,
    summary="Extend the deadline of an amendment request (once, by at most 30 days)",
)
def extend_amendment(
    request: Request,
    response: Response,
    plan_id: PlanId,
    amendment_id: ItemIdPath,
    body: AmendmentExtensionBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.ExtendAmendmentDeadline,
        body,
        if_match,
        idempotency_key,
        amendment_id=amendment_id,
    )


@router.post(
    "/amendments/{amendment_id}/accept",
    responses=CHANGED,
    summary="Accept an amendment request, naming the revision that carries it out",
)
def accept_amendment(
    request: Request,
    response: Response,
    plan_id: PlanId,
    amendment_id: ItemIdPath,
    body: AmendmentAcceptBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.AcceptAmendment,
        body,
        if_match,
        idempotency_key,
        amendment_id=amendment_id,
    )


@router.post(
    "/amendments/{amendment_id}/deny",
    responses=CHANGED,
    summary="Deny an amendment request on a ground of 45 CFR 164.526(a)(2)",
)
def deny_amendment(
    request: Request,
    response: Response,
    plan_id: PlanId,
    amendment_id: ItemIdPath,
    body: AmendmentDenyBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.DenyAmendment,
        body,
        if_match,
        idempotency_key,
        amendment_id=amendment_id,
    )


@router.post(
    "/amendments/{amendment_id}/disagreement",
    responses=CHANGED,
    summary="File the client's statement of disagreement with a denial (by or for the client)",
)
def file_disagreement(
    request: Request,
    response: Response,
    plan_id: PlanId,
    amendment_id: ItemIdPath,
    body: DisagreementBody,
    caller: Annotated[Principal, Depends(REQUEST_AMENDMENT)],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.FileDisagreementStatement,
        body,
        if_match,
        idempotency_key,
        amendment_id=amendment_id,
    )


@router.post(
    "/amendments/{amendment_id}/rebuttal",
    responses=CHANGED,
    summary="File the practice's rebuttal of a statement of disagreement",
)
def file_rebuttal(
    request: Request,
    response: Response,
    plan_id: PlanId,
    amendment_id: ItemIdPath,
    body: RebuttalBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.FileRebuttal,
        body,
        if_match,
        idempotency_key,
        amendment_id=amendment_id,
    )
