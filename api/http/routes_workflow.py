"""A plan's workflow: reviews, signatures and co-signature requests, rationales and notes,
amendment requests (45 CFR 164.526), renewal, discharge. Supervisors may sign (``supervisor``/
``approved``), revoke their own signature and record rationale requests and comments; everything
else is the plan's clinician's, including every step of an amendment request (ADR 0012)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from plantrail.api.routing.common import (
    ETAG_HEADER,
    WRITE_RESPONSES,
    AmendmentWrite,
    ClinicianWrite,
    ItemIdPath,
    SignerWrite,
    SigningWrite,
    context,
)
from plantrail.api.routing.schemas import (
    AmendmentAcceptBody,
    AmendmentDenyBody,
    AmendmentExtensionBody,
    AmendmentRequestBody,
    CompleteReviewBody,
    ContinuationPreview,
    DisagreementBody,
    DischargeBody,
    RationaleBody,
    RebuttalBody,
    RenewBody,
    SignatureBody,
    SignatureRequestBody,
    StartReviewBody,
    WriteFields,
    WriteResult,
)
from plantrail.domain import commands as cmd
from plantrail.domain.errors import InvalidInput

router = APIRouter(prefix="/plans/{plan_id}", tags=["plan workflow"], responses=WRITE_RESPONSES)

CREATED: dict[int | str, dict[str, Any]] = {201: {"description": "Created", "headers": ETAG_HEADER}}
CHANGED: dict[int | str, dict[str, Any]] = {200: {"description": "Changed", "headers": ETAG_HEADER}}


@router.post("/reviews", status_code=201, responses=CREATED, summary="Start a review")
def start_review(
    write: ClinicianWrite,
    body: Annotated[StartReviewBody | None, Body()] = None,
) -> WriteResult:
    return write.run(cmd.StartReview, body)


DryRun = Annotated[
    bool,
    Query(
        description="Store nothing: answer with the copy-forward verdict the write would get "
        "(`ContinuationPreview`), after the engine's own checks"
    ),
]


@router.post(
    "/reviews/{review_id}/complete",
    responses=CHANGED,
    summary="Complete a review (or preview its copy-forward verdict with ?dry_run=true)",
)
def complete_review(
    review_id: ItemIdPath,
    body: CompleteReviewBody,
    write: ClinicianWrite,
    dry_run: DryRun = False,
) -> WriteResult | ContinuationPreview:
    if dry_run:
        return write.preview(cmd.CompleteReview, body, review_id=review_id)
    return write.run(cmd.CompleteReview, body, review_id=review_id)


@router.post(
    "/signatures",
    status_code=201,
    responses=CREATED,
    summary="Sign the plan (or record a client's or guardian's signature)",
)
def capture_signature(
    body: SignatureBody,
    write: SigningWrite,
) -> WriteResult:
    fields: dict[str, Any] = {}
    if write.caller.role == "client":
        # The client signs for themself, under the name the plan gives them; like a signature
        # captured in session it names no user (the event's actor says it came from their link).
        fields["signer_name"] = write.caller.name
        fields["signer_id"] = None
        fields["signer_credentials"] = None
    elif body.role in ("clinician", "supervisor"):
        # The signer of a clinician's or supervisor's signature is the caller, always.
        fields["signer_id"] = write.caller.user_id
        if body.signer_name is None:
            fields["signer_name"] = write.caller.name
        if body.signer_credentials is None and write.caller.credentials is not None:
            fields["signer_credentials"] = write.caller.credentials
    elif body.signer_name is None:
        raise InvalidInput.on("signer_name", f"is required for a {body.role}'s signature")
    return write.run(cmd.CaptureSignature, body, **fields)


@router.post("/signatures/{item_id}/revoke", responses=CHANGED, summary="Revoke a signature")
def revoke_signature(
    item_id: ItemIdPath,
    write: SignerWrite,
    body: Annotated[WriteFields | None, Body()] = None,
) -> WriteResult:
    return write.run(cmd.RevokeSignature, body, signature_id=item_id)


@router.post(
    "/signature-requests",
    status_code=201,
    responses=CREATED,
    summary="Request a co-signature (pending until that user signs)",
)
def request_signature(
    body: SignatureRequestBody,
    write: ClinicianWrite,
) -> WriteResult:
    if body.role not in ("clinician", "supervisor"):
        raise InvalidInput.on("role", "a co-signature is requested from a clinician or supervisor")
    signer = context(write.request).accounts.get(body.signer_id)
    if signer is None or signer.disabled or signer.role not in ("clinician", "supervisor"):
        raise InvalidInput.on("signer_id", "is not an active clinician or supervisor")
    if signer.role != body.role:
        raise InvalidInput.on("signer_id", f"is a {signer.role}, not a {body.role}")
    return write.run(cmd.RequestSignature, body, signer_name=signer.name)


@router.post("/rationales", responses=CHANGED, summary="Record a rationale, request or comment")
def record_rationale(
    body: RationaleBody,
    write: SignerWrite,
) -> WriteResult:
    return write.run(cmd.RecordRationale, body)


@router.post(
    "/renew",
    responses=CHANGED,
    summary="Renew the plan for a new period (or preview its verdict with ?dry_run=true)",
)
def renew(
    body: RenewBody,
    write: ClinicianWrite,
    dry_run: DryRun = False,
) -> WriteResult | ContinuationPreview:
    if dry_run:
        return write.preview(cmd.RenewPlan, body)
    return write.run(cmd.RenewPlan, body)


@router.post("/discharge", responses=CHANGED, summary="Discharge the plan")
def discharge(
    body: DischargeBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.DischargePlan, body)


# ---------------------------------------------------- amendment requests (45 CFR 164.526)
@router.post(
    "/amendments",
    status_code=201,
    responses=CREATED,
    summary="A client's request to amend the plan: as received, or filed by the client",
)
def request_amendment(
    body: AmendmentRequestBody,
    write: AmendmentWrite,
) -> WriteResult:
    fields: dict[str, Any] = {}
    if write.caller.role == "client":
        # The client's own request: received when it arrives, under the plan's name for them.
        fields["received_on"] = context(write.request).service.clock().date()
        fields["requested_by"] = f"{write.caller.name} (the client, through their access link)"
    else:
        for name in ("received_on", "requested_by"):
            if getattr(body, name) is None:
                raise InvalidInput.on(name, "is required when the clinician records a request")
    return write.run(cmd.RequestAmendment, body, **fields)


@router.post(
    "/amendments/{amendment_id}/extend",
    responses=CHANGED,
    summary="Extend the deadline of an amendment request (once, by at most 30 days)",
)
def extend_amendment(
    amendment_id: ItemIdPath,
    body: AmendmentExtensionBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.ExtendAmendmentDeadline, body, amendment_id=amendment_id)


@router.post(
    "/amendments/{amendment_id}/accept",
    responses=CHANGED,
    summary="Accept an amendment request, naming the revision that carries it out",
)
def accept_amendment(
    amendment_id: ItemIdPath,
    body: AmendmentAcceptBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.AcceptAmendment, body, amendment_id=amendment_id)


@router.post(
    "/amendments/{amendment_id}/deny",
    responses=CHANGED,
    summary="Deny an amendment request on a ground of 45 CFR 164.526(a)(2)",
)
def deny_amendment(
    amendment_id: ItemIdPath,
    body: AmendmentDenyBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.DenyAmendment, body, amendment_id=amendment_id)


@router.post(
    "/amendments/{amendment_id}/disagreement",
    responses=CHANGED,
    summary="File the client's statement of disagreement with a denial (by or for the client)",
)
def file_disagreement(
    amendment_id: ItemIdPath,
    body: DisagreementBody,
    write: AmendmentWrite,
) -> WriteResult:
    return write.run(cmd.FileDisagreementStatement, body, amendment_id=amendment_id)


@router.post(
    "/amendments/{amendment_id}/rebuttal",
    responses=CHANGED,
    summary="File the practice's rebuttal of a statement of disagreement",
)
def file_rebuttal(
    amendment_id: ItemIdPath,
    body: RebuttalBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.FileRebuttal, body, amendment_id=amendment_id)
