"""Audit findings at a point in the past and over a period.

``findings_on`` gives the findings of the plan as it stood: the caller cuts the events to a
recorded bound (``as_of``, a version prefix) and this module filters them to a clinical date
exactly as ``PlanService.load_at(effective_on=…)`` folds (the events effective by that date, in
version order), judging deadlines as of ``today``.

``period_findings`` answers an auditor's question "what was wrong with this plan at any time
between April and July?": on every day of the period it takes the plan in clinical effect that
day, judged as of that day, and reports each finding that held on any of those days with the
runs of days it held. A finding that today's view no longer shows (a copied-forward review
cleared by a later review that updated the plan) is still reported for the days it held.

Speed: the events in effect change only on days some event takes effect, so a plan is folded
once per such day, never once per calendar day; and not from scratch either (``_ClinicalScans``):
the fold of the longest version prefix in effect grows day by day, and each day's late entries
(higher versions that took effect earlier) are folded onto a cheap copy of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from plantrail.domain import events as ev
from plantrail.domain.errors import InvalidInput
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState
from plantrail.domain.snapshots import working_copy
from plantrail.projections.findings import (
    FINDINGS,
    PlanScan,
    describe,
    flagged_entry,
    plan_findings,
    revision_flags,
    scan_plan,
)
from plantrail.projections.history import is_late
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import ReviewJudge, fold_judging
from plantrail.projections.revisions import needs_rationale

__all__ = [
    "MAX_PERIOD_DAYS",
    "clinical_scans",
    "effective_by",
    "findings_on",
    "period_findings",
    "recorded_by",
]

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
"""The days a period of service may cover: far beyond any real chart, and far enough from the
calendar's end that a period's day-by-day walk never runs off it."""
MAX_PERIOD_DAYS = 3 * 365 + 1
"""Longest period evaluated day by day (three years): an audit looks back a few years at most,
and a longer request is far more likely a typo in the year than a real question."""


def recorded_by(events: Sequence[PlanEvent], as_of: datetime) -> list[PlanEvent]:
    """The version prefix recorded by ``as_of`` (a plan's recorded times never go backwards,
    so this is what ``PlanService.load_at(as_of=…)`` reads)."""
    out = []
    for event in events:
        if event.recorded_at > as_of:
            break
        out.append(event)
    return out


def effective_by(events: Sequence[PlanEvent], day: date) -> list[PlanEvent]:
    """The events in clinical effect on ``day``, in version order (as ``load_at`` folds)."""
    return [e for e in events if e.effective_date <= day]


def findings_on(
    events: Sequence[PlanEvent],
    profile: RuleProfile,
    *,
    effective_on: date | None = None,
    today: date,
) -> list[dict[str, Any]]:
    """The findings of the plan folded from ``events`` (already cut to any recorded bound),
    in clinical effect on ``effective_on`` when given, with deadlines judged as of ``today``;
    [] when the plan was not yet in effect."""
    shown = list(events) if effective_on is None else effective_by(events, effective_on)
    scan = scan_plan(shown, profile)
    if scan.state is None:
        return []
    return plan_findings(scan.state, shown, profile, today, scan=scan)


# ------------------------------------------------------------------------ the clinical fold
@dataclass(frozen=True)
class _Entry:
    """What the revision-log flags of one event need, captured as the fold passes it (the plan
    before it is gone afterwards); kept only for events that some note could ever flag."""

    event: PlanEvent
    needs: bool
    described: tuple[str, str | None, str | None]


class _Fold:
    """A fold that can grow by later versions and be copied: the state, the review judge and
    what the flagged revision-log entries need (``scan_plan`` yields the same ``PlanScan``).

    ``scan_plan`` learns every rationale note up front; here the notes arrive as the history
    grows, so the flags are worked out when a scan is asked for, from ``_Entry`` records."""

    def __init__(self, profile: RuleProfile, requested: frozenset[int]) -> None:
        self.late_entry_days = profile.late_entry_days
        self.requested = requested
        self.state: PlanState | None = None
        self.judge = ReviewJudge(keep_states=False, profile=profile)
        self.entries: list[_Entry] = []
        self.notes: dict[int, list[ev.RationaleRecorded]] = {}
        self.count = 0
        """Events folded so far (the opening included)."""

    def _watch(self, state: PlanState | None, event: PlanEvent) -> None:
        if isinstance(event, ev.RationaleRecorded):
            self.notes.setdefault(event.explains_version, []).append(event)
        needs = needs_rationale(state, event)
        could_flag = (
            not event.rationale and (needs or is_late(event, self.late_entry_days))
        ) or event.originator_version in self.requested
        if could_flag:
            self.entries.append(_Entry(event, needs, describe(state, event)))

    def grow(self, events: Iterable[PlanEvent]) -> None:
        """Fold ``events``, all of higher versions than any folded so far."""
        batch = list(events)
        self.count += len(batch)
        self.state = fold_judging(batch, self.judge, self._watch, self.state)

    def copy(self) -> _Fold:
        twin = _Fold.__new__(_Fold)
        twin.late_entry_days, twin.requested = self.late_entry_days, self.requested
        twin.state = working_copy(self.state) if self.state is not None else None
        twin.judge = self.judge.copy()
        twin.entries = list(self.entries)
        twin.notes = {version: list(notes) for version, notes in self.notes.items()}
        twin.count = self.count
        return twin

    def scan(self) -> PlanScan:
        flagged = []
        for entry in self.entries:
            later = self.notes.get(entry.event.originator_version, [])
            flags = revision_flags(entry.event, entry.needs, later, self.late_entry_days)
            if any(flags):
                flagged.append(flagged_entry(entry.event, entry.described, flags))
        return PlanScan(self.state, list(self.judge.judged), flagged)


def clinical_scans(
    events: Sequence[PlanEvent], profile: RuleProfile, days: Iterable[date]
) -> Iterator[tuple[date, PlanScan, list[PlanEvent]]]:
    """For each of ``days`` (ascending), the ``scan_plan`` of the events in clinical effect on it
    and those events. The scan's state is shared with later days: use it before asking for the
    next day, never change it."""
    events = sorted(events, key=lambda e: e.originator_version)  # as given, in practice
    requested = frozenset(
        e.explains_version
        for e in events
        if isinstance(e, ev.RationaleRecorded) and e.kind == "rationale_request"
    )
    prefix = _Fold(profile, requested)
    shown_for: list[PlanEvent] | None = None
    current: tuple[PlanScan, list[PlanEvent]] | None = None
    previous: date | None = None
    for day in days:
        if previous is not None and day < previous:
            raise ValueError("clinical_scans needs ascending days")
        previous = day
        # The longest version prefix wholly in effect only grows as the days go by.
        end = prefix.count
        while end < len(events) and events[end].effective_date <= day:
            end += 1
        late = [e for e in events[end:] if e.effective_date <= day]
        shown = events[:end] + late if late else list(events[:end])
        if current is None or shown_for is None or len(shown) != len(shown_for):
            # Events only ever join as the days go by: the same count is the same events.
            prefix.grow(events[prefix.count : end])
            fold = prefix
            if late:
                fold = prefix.copy()
                fold.grow(late)
            current = (fold.scan(), shown)
            shown_for = shown
        yield day, current[0], current[1]


# ------------------------------------------------------------------------------ periods
def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def check_period(
    start: date, end: date, *, start_field: str = "from", end_field: str = "to"
) -> None:
    """Refuse a period that ends before it starts, is longer than ``MAX_PERIOD_DAYS`` or lies
    outside the years a date of service can have (``EARLIEST_DAY`` to ``LATEST_DAY``)."""
    for field_name, day in ((start_field, start), (end_field, end)):
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise InvalidInput.on(
                field_name,
                f"{day.isoformat()} is not a plausible date of service "
                f"({EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()})",
            )
    if end < start:
        raise InvalidInput.on(
            end_field, f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})"
        )
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput.on(
            end_field, f"the period is longer than {MAX_PERIOD_DAYS} days (three years)"
        )


def period_findings(
    events: Sequence[PlanEvent],
    profile: RuleProfile,
    start: date,
    end: date,
    *,
    run_messages: bool = False,
) -> list[dict[str, Any]]:
    """Every finding that held on some day of [``start``, ``end``], the plan taken as in
    clinical effect that day and judged as of it, keyed by (code, item): its runs of
    consecutive days (``dates``), first and last day held, and the severity, message and label
    of the last day it held. In ``FINDINGS`` order, then by the first day held.

    ``run_messages``: each run also carries the message of its own last day, so that a run in
    March is worded as in March ("since the last review on 2026-02-10"), not as in September
    (the audit packet from format 2 asks for it; the JSON answers keep their shape)."""
    check_period(start, end)
    held: dict[tuple[str, str | None], dict[str, Any]] = {}
    runs: dict[tuple[str, str | None], list[list[Any]]] = {}
    for day, scan, shown in clinical_scans(events, profile, _days(start, end)):
        if scan.state is None:
            continue  # the plan had not taken effect yet
        for finding in plan_findings(scan.state, shown, profile, day, scan=scan):
            key = (finding["code"], finding["item_id"])
            spans = runs.setdefault(key, [])
            if spans and spans[-1][1] == day:
                # The same code on the same item twice in a day: one finding that day, worded
                # as the last of them (as ``held`` keeps it).
                spans[-1][2] = finding["message"]
            elif spans and spans[-1][1] == day - timedelta(days=1):
                spans[-1][1] = day
                spans[-1][2] = finding["message"]
            else:
                spans.append([day, day, finding["message"]])
            held[key] = finding
    order = {code: rank for rank, code in enumerate(FINDINGS)}
    out = []
    for key, finding in held.items():
        spans = runs[key]
        out.append(
            {
                **finding,
                "dates": [
                    {"from": a.isoformat(), "to": b.isoformat()}
                    | ({"message": message} if run_messages else {})
                    for a, b, message in spans
                ],
                "first_held": spans[0][0].isoformat(),
                "last_held": spans[-1][1].isoformat(),
            }
        )
    return sorted(out, key=lambda f: (order[f["code"]], f["first_held"]))
