"""What the JSON routes and the pages share to read one plan: the events and state through the
gateway (reach-checked and logged under the view's name), a diff point, the rule profile."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from plantrail.api.routing.context import AppContext, access_entry
from plantrail.domain.errors import InvalidInput
from plantrail.domain.plan import PlanState, fold
from plantrail.projections.access.policy import Principal

POINT_PATTERN = (
    r"^([0-9]{1,10}|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2}))$"
)


_INSTANT = TypeAdapter(AwareDatetime)


def late_days(ctx: AppContext) -> int:
    return ctx.service.late_entry_days


def events_and_state(
    ctx: AppContext, caller: Principal, plan_id: UUID, request: Request, view: str
) -> tuple[list[Any], PlanState]:
    events = ctx.gateway.events(caller, plan_id, access_entry(request), view=view)
    state = fold(events)
    assert state is not None  # the gateway only returns a plan's events when it exists
    return events, state


def point(name: str, value: str) -> tuple[int | None, datetime | None]:
    if value.isdigit():
        number = int(value)
        if not 1 <= number <= 2**31 - 1:
            raise InvalidInput.on(name, "must be a version of at least 1")
        return number, None
    try:
        return None, _INSTANT.validate_python(value)
    except ValidationError:
        raise InvalidInput.on(
            name, "must be a version number or an RFC 3339 instant with a time zone"
        ) from None


def rule_profile(ctx: AppContext) -> Any:
    """The practice's rule profile (default thresholds unless the app was given one): the one
    object the gateway judges a continuation by (``create_app`` gives it both)."""
    if ctx.settings.profile is None:
        ctx.settings.profile = ctx.gateway.profile
    return ctx.settings.profile


def rule_profile_with(ctx: AppContext, copy_forward_detector: int | None) -> Any:
    """The practice's rule profile, with the copy-forward detector a request asked for (1, the
    identical-only detector, to reproduce an earlier answer; 2, near copies too)."""
    profile = rule_profile(ctx)
    if copy_forward_detector is None or copy_forward_detector == profile.copy_forward_detector:
        return profile
    return profile.model_copy(update={"copy_forward_detector": copy_forward_detector})


Detector = Annotated[
    int | None,
    Query(
        ge=1,
        le=2,
        description="copy-forward detector: 1 identical plan language only, 2 near copies too "
        "(default: the practice's rule profile)",
    ),
]
"""The copy-forward detector a read asks for (docs/projections.md, the third verdict)."""
