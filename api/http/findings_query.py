"""The point or period a findings request asks about (``GET /plans/{id}/findings`` and
``GET /reports/findings``): ``as_of`` (recorded axis), ``effective_on`` (clinical axis), or a
period ``from``–``to`` (every day on the clinical axis, combinable with ``as_of``).

Deadlines are judged on the day looked at: ``effective_on``, else the UTC date of ``as_of``,
never later than the server's today (a future instant shows the record as it stands now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from plantrail.api.routing.schemas import IsoDate
from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.events import PlanEvent
from plantrail.projections.period_findings import (
    check_period,
    effective_by,
    findings_on,
    period_findings,
    recorded_by,
)
from plantrail.projections.profile import RuleProfile

INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})$"
)
"""An RFC 3339 instant with its zone (what the schema promises; no bare timestamps)."""
_INSTANT = TypeAdapter(AwareDatetime)

AsOf = Annotated[
    str | None,
    Query(
        pattern=INSTANT_PATTERN,
        description="Recorded axis: the findings of the record as it stood at this instant "
        "(RFC 3339 with a zone)",
    ),
]
EffectiveOn = Annotated[
    IsoDate | None,
    Query(description="Clinical axis: the findings of the plan in effect on this date"),
]
From = Annotated[
    IsoDate | None,
    Query(alias="from", description="Period start (with `to`): every finding held on some day"),
]
To = Annotated[IsoDate | None, Query(description="Period end, included (with `from`)")]


def utc_date(moment: datetime) -> date:
    try:
        return moment.astimezone(UTC).date()
    except OverflowError:  # the very ends of the calendar
        return moment.date()


@dataclass(frozen=True)
class FindingsQuery:
    as_of: datetime | None = None
    effective_on: date | None = None
    start: date | None = None
    end: date | None = None

    @property
    def plain(self) -> bool:
        """No point and no period: today's findings, as before."""
        return self == FindingsQuery()

    @property
    def period(self) -> bool:
        return self.start is not None

    def today(self, server_today: date) -> date:
        day = server_today if self.as_of is None else min(server_today, utc_date(self.as_of))
        return day if self.effective_on is None else min(day, self.effective_on)

    def echo(self) -> dict[str, Any]:
        """The period's ends, for the response (nothing for a point)."""
        if self.start is None or self.end is None:
            return {}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def instant(value: str | None, field: str = "as_of") -> datetime | None:
    if value is None:
        return None
    try:
        return _INSTANT.validate_python(value)
    except ValidationError:
        raise InvalidInput.on(field, "must be an RFC 3339 instant with a time zone") from None


def findings_query(
    as_of: str | None, effective_on: date | None, start: date | None, end: date | None
) -> FindingsQuery:
    """The request's point or period, refusing combinations that mean nothing."""
    if (start is None) != (end is None):
        missing = "to" if end is None else "from"
        raise InvalidInput.on(missing, "a period needs both from and to")
    if start is not None and end is not None:
        if effective_on is not None:
            raise InvalidInput.on(
                "effective_on", "a period already walks the clinical axis: give from/to or it"
            )
        check_period(start, end)
    return FindingsQuery(instant(as_of), effective_on, start, end)


def recorded_events(
    plan_id: UUID, events: list[PlanEvent], query: FindingsQuery
) -> list[PlanEvent]:
    """The plan's events recorded by ``as_of`` (all of them without it); a plan not yet opened
    then is ``NotFound``, as ``GET /plans/{id}?as_of=`` answers."""
    if query.as_of is None:
        return events
    shown = recorded_by(events, query.as_of)
    if not shown:
        raise NotFound(f"plan {plan_id} had not been opened by {query.as_of.isoformat()}")
    return shown


def queried_findings(
    plan_id: UUID,
    events: list[PlanEvent],
    profile: RuleProfile,
    query: FindingsQuery,
    server_today: date,
) -> tuple[int, list[dict[str, Any]]]:
    """The version looked at and its findings for ``query``; a plan not yet in effect on
    ``effective_on`` is ``NotFound``, as ``GET /plans/{id}?effective_on=`` answers."""
    recorded = recorded_events(plan_id, events, query)
    if query.start is not None and query.end is not None:
        return recorded[-1].originator_version, period_findings(
            recorded, profile, query.start, query.end, run_messages=True
        )
    if query.effective_on is not None:
        shown = effective_by(recorded, query.effective_on)
        if not shown or shown[0].originator_version != 1:
            raise NotFound(f"plan {plan_id} was not yet in effect on {query.effective_on}")
        version = shown[-1].originator_version
    else:
        version = recorded[-1].originator_version
    found = findings_on(
        recorded,
        profile,
        effective_on=query.effective_on,
        today=query.today(server_today),
    )
    return version, found
