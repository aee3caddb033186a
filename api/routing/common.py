"""What the routers share: path and header parameters, and the one write pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, get_type_hints
from uuid import UUID

from fastapi import Depends, Header, Path, Request, Response

from plantrail.api.routing.access import (
    REQUEST_AMENDMENT,
    SIGN,
    SIGN_OR_NOTE,
    WRITE_PLAN,
    RoutePolicy,
)
from plantrail.api.routing.context import AppContext, access_entry
from plantrail.api.routing.problems import problem_responses
from plantrail.api.routing.schemas import (
    WRITE_FIELDS,
    ContinuationPreview,
    WriteFields,
    WriteResult,
)
from plantrail.domain import commands as cmd
from plantrail.domain.commands import ICD10_CODE
from plantrail.domain.parsing import parse_command
from plantrail.projections.access.policy import Principal

PlanId = Annotated[UUID, Path(description="The plan's id (a UUID)")]
ItemIdPath = Annotated[
    str,
    Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$", description="An item id"),
]
CodePath = Annotated[str, Path(pattern=ICD10_CODE, description="An ICD-10-CM code on the plan")]

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=r'^("[0-9]{1,12}"|[0-9]{1,12}|\*)$',
        description='The version the change is based on, as in the ETag: "7". Stale → 412.',
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=100,
        pattern=r"^[!-~]+$",
        description="Retry key (1–100 visible ASCII characters): the same key and body answer "
        "as the first time and store nothing new; the same key with another body → 422",
    ),
]


ETAG_HEADER = {
    "ETag": {"description": 'The plan version: "<version>"', "schema": {"type": "string"}}
}

WRITE_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(
    401, 403, 404, 409, 412, 413, 422, 503
)


def context(request: Request) -> AppContext:
    found: AppContext = request.app.state.plantrail
    return found


def if_match_version(value: str | None) -> int | None:
    """The version an If-Match header names (None for none or ``*``)."""
    if value is None or value == "*":
        return None
    return int(value.strip('"'))


def etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


@dataclass(frozen=True)
class PlanWrite:
    """What every write route shares: the request, the caller its route policy admitted, the
    plan and the two headers of a write (If-Match, Idempotency-Key). ``run`` is the one write
    pipeline: body and path fields → command (domain parsing) → gateway → answer."""

    request: Request
    response: Response
    caller: Principal
    plan_id: UUID
    if_match: str | None
    idempotency_key: str | None

    @staticmethod
    def _parsed(
        model: type[cmd.Command], body: WriteFields | None, fields: dict[str, Any]
    ) -> tuple[cmd.Command, dict[str, Any]]:
        """The command and the envelope (the common write fields) a body gives."""
        data: dict[str, Any] = {}
        envelope: dict[str, Any] = {}
        if body is not None:
            dumped = body.model_dump(exclude_unset=True)
            envelope = {k: v for k, v in dumped.items() if k in WRITE_FIELDS}
            data = {k: v for k, v in dumped.items() if k not in WRITE_FIELDS}
        data.update(fields)
        return parse_command(model, data), envelope

    def preview(
        self,
        model: type[cmd.CompleteReview] | type[cmd.RenewPlan],
        body: WriteFields,
        **fields: Any,
    ) -> ContinuationPreview:
        """A dry run (``?dry_run=true``) of a review's completion or a renewal: the verdict it
        would get on the plan at If-Match (else now), after the engine's own checks; stores
        nothing."""
        command, envelope = self._parsed(model, body, fields)
        assert isinstance(command, cmd.CompleteReview | cmd.RenewPlan)
        found = context(self.request).gateway.continuation_preview(
            self.caller,
            self.plan_id,
            command,
            access_entry(self.request),
            version=if_match_version(self.if_match),
            envelope=envelope,
        )
        etag(self.response, int(found["version"]))
        return ContinuationPreview.model_validate(found)

    def run(self, model: type[cmd.Command], body: WriteFields | None, **fields: Any) -> WriteResult:
        command, envelope = self._parsed(model, body, fields)
        result = context(self.request).gateway.execute(
            self.caller,
            self.plan_id,
            command,  # type: ignore[arg-type]
            envelope,
            if_match=if_match_version(self.if_match),
            idempotency_key=self.idempotency_key,
            entry=access_entry(self.request),
        )
        etag(self.response, result.version)
        return WriteResult(
            plan_id=result.plan_id, version=result.version, id=result.item_id, label=result.label
        )


def plan_write(policy: RoutePolicy) -> Any:
    """The ``PlanWrite`` dependency of a write route whose callers ``policy`` admits."""
    caller_of = Annotated[Principal, Depends(policy)]

    def dependency(
        request: Request,
        response: Response,
        plan_id: PlanId,
        caller: Principal,
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> PlanWrite:
        return PlanWrite(request, response, caller, plan_id, if_match, idempotency_key)

    # This module's annotations are strings (PEP 563) that FastAPI resolves in the module's
    # globals, where ``policy`` is not: the caller's annotation is given as the object itself.
    dependency.__annotations__ = {
        **get_type_hints(dependency, include_extras=True),
        "caller": caller_of,
    }
    return Depends(dependency)


ClinicianWrite = Annotated[PlanWrite, plan_write(WRITE_PLAN)]
"""A change of the plan's content, by its clinician."""
SignerWrite = Annotated[PlanWrite, plan_write(SIGN_OR_NOTE)]
"""A note or a signature's revocation, by the clinician or a supervisor."""
SigningWrite = Annotated[PlanWrite, plan_write(SIGN)]
"""A signature: the clinician's, a supervisor's, or the client's own."""
AmendmentWrite = Annotated[PlanWrite, plan_write(REQUEST_AMENDMENT)]
"""An amendment request or a statement of disagreement, which the client may file too."""
