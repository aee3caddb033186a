"""Review history (docs/domain.md, Projections 5; docs/api.md, "A review"), with copy-forward
verdicts.

For each completed review: reason, dates, assessments (with objective labels), progress summary,
client input, next review date, the measurements since the previous review set against each
objective's baseline and target, what changed in the plan since the previous review (or since
the first clinician signature, for the first review), and the copy-forward verdict.

Each review is compared with the plan as it stood when the previous review was completed: that
is what the clinician had in front of them. The events are folded once; the states at the first
clinician signature and at each completion are copied as the fold passes them, never re-folded.
Measurements count by clinical date (administered after the previous review, up to this one)
among those recorded by the time the review was completed; a measurement voided since is left
out, because it was entered in error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from plantrail.domain import events as ev
from plantrail.domain.plan import Measurement, PlanState, apply, start
from plantrail.domain.values import ObjectiveStatus
from plantrail.projections.copy_forward import (
    DEFAULT_PROFILE,
    PlanLanguage,
    plan_language,
    verdict_between,
)
from plantrail.projections.diff import SECTIONS, plan_diff
from plantrail.projections.history import is_late
from plantrail.projections.profile import RuleProfile
from plantrail.projections.signatures import rfc3339

__all__ = [
    "JudgedReview",
    "Preview",
    "ReviewJudge",
    "fold_judging",
    "judged_reviews",
    "preview",
    "preview_verdict",
    "review_history",
]

_CHANGE_SECTIONS = tuple(s for s in SECTIONS if s not in ("measurements", "reviews"))
"""Measurements are reported on their own; the reviews themselves are the rows of the history."""


@dataclass(frozen=True)
class _Point:
    """The plan at a point a review is compared with."""

    kind: str
    label: str | None
    version: int
    effective: date
    state: PlanState | None
    """A copy of the plan then; None when only the verdicts are wanted (no tables, no changes)."""
    language: PlanLanguage
    summary: str | None


def _snapshot(state: PlanState) -> PlanState:
    """A deep copy without the measurements, which are read from the final state instead:
    they are most of a long history and copying them at every review would cost the most."""
    measurements, state.measurements = state.measurements, {}
    try:
        # A round trip through pydantic-core's JSON gives an equal, independent state 4-5x
        # faster than ``model_copy(deep=True)`` (Python's deepcopy), the rebuild's hot spot.
        return PlanState.model_validate_json(state.model_dump_json())
    finally:
        state.measurements = measurements


@dataclass(frozen=True)
class JudgedReview:
    """One completed review, the point it was compared with, and its copy-forward verdict."""

    event: ev.ReviewCompleted
    against: _Point
    current: _Point
    verdict: dict[str, Any]


class ReviewJudge:
    """Judges each completed review as a fold passes it: feed it the opening, then every later
    event right after it is applied. The caseload read models need only the verdicts, so the
    states compared are copied only when ``keep_states`` (the history's tables and changes)."""

    def __init__(self, *, keep_states: bool, profile: RuleProfile = DEFAULT_PROFILE) -> None:
        self.keep_states = keep_states
        self.profile = profile
        self.opening: _Point | None = None
        self.previous: _Point | None = None
        self.streak = 0
        self.judged: list[JudgedReview] = []

    def _point(
        self,
        kind: str,
        label: str | None,
        event: ev.PlanEvent,
        state: PlanState,
        summary: str | None,
    ) -> _Point:
        return _Point(
            kind,
            label,
            event.originator_version,
            event.effective_date,
            _snapshot(state) if self.keep_states else None,
            plan_language(state, self.profile.copy_forward_detector),
            summary,
        )

    def copy(self) -> ReviewJudge:
        """An independent judge that has seen what this one has (its points never change)."""
        twin = ReviewJudge(keep_states=self.keep_states, profile=self.profile)
        twin.opening, twin.previous, twin.streak = self.opening, self.previous, self.streak
        twin.judged = list(self.judged)
        return twin

    def opened(self, event: ev.PlanOpened, state: PlanState) -> None:
        self.opening = self._point("opening", None, event, state, None)

    def applied(self, event: ev.PlanEvent, state: PlanState) -> None:
        if (
            isinstance(event, ev.SignatureCaptured)
            and event.role == "clinician"
            and self.previous is None
        ):
            self.previous = self._point("first_signature", None, event, state, None)
        elif isinstance(event, ev.ReviewCompleted):
            review = state.reviews.get(event.review_id)
            label = review.label if review else None
            current = self._point("review", label, event, state, event.progress_summary)
            # Without a signature the plan could not be reviewed; an imported or filtered
            # history still gets a verdict, against the plan as opened.
            against = self.previous or self.opening
            assert against is not None
            verdict = verdict_between(
                against.language,
                current.language,
                against.summary,
                current.summary,
                self.streak,
                self.profile,
            )
            self.streak = verdict["streak"]
            self.judged.append(JudgedReview(event, against, current, verdict))
            self.previous = current


Watcher = Callable[[PlanState | None, ev.PlanEvent], None]
"""Sees each event with the plan as it stood just before it (None before the opening)."""


def fold_judging(
    events: Iterable[ev.PlanEvent],
    judge: ReviewJudge,
    before: Watcher | None = None,
    state: PlanState | None = None,
) -> PlanState | None:
    """Fold ``events`` once, letting ``judge`` judge the reviews and ``before`` see each event
    against the plan before it; returns the final state. Other passes over the same history
    (the revision log's flags) ride on this fold instead of folding again. ``state`` (with the
    ``judge`` that saw it) continues an earlier fold with later versions."""
    for event in events:
        if isinstance(event, ev.PlanOpened):
            if before is not None:
                before(None, event)
            state = start(event)
            judge.opened(event, state)
            continue
        if state is None:
            continue  # a filtered history can lack its opening
        if before is not None:
            before(state, event)
        apply(state, event)
        judge.applied(event, state)
    return state


def judged_reviews(
    events: Iterable[ev.PlanEvent],
    before: Watcher | None = None,
    profile: RuleProfile = DEFAULT_PROFILE,
) -> tuple[PlanState | None, list[JudgedReview]]:
    """The final state and every completed review with its verdict, without the history's
    tables (the same verdicts as ``review_history``, at a fraction of its cost)."""
    judge = ReviewJudge(keep_states=False, profile=profile)
    state = fold_judging(events, judge, before)
    return state, judge.judged


@dataclass(frozen=True)
class Preview:
    """A review's verdict if it were completed now (``preview``): the plan as folded, the
    point it would be compared with, and the verdict (None before the opening)."""

    state: PlanState | None
    against: _Point | None
    verdict: dict[str, Any] | None
    completed: tuple[JudgedReview, ...] = ()

    @property
    def against_kind(self) -> str | None:
        return self.against.kind if self.against else None

    @property
    def against_label(self) -> str | None:
        return self.against.label if self.against else None


def preview(
    events: Iterable[ev.PlanEvent],
    statuses: Mapping[str, ObjectiveStatus],
    progress_summary: str | None,
    profile: RuleProfile = DEFAULT_PROFILE,
) -> Preview:
    """``preview_verdict`` with the plan it folded and the point it compared with."""
    judge = ReviewJudge(keep_states=False, profile=profile)
    state = fold_judging(events, judge)
    against = judge.previous or judge.opening
    if state is None or against is None:
        return Preview(state, against, None, tuple(judge.judged))
    objectives = {
        key: objective.model_copy(update={"status": statuses[key]})
        if key in statuses
        else objective
        for key, objective in state.objectives.items()
    }
    hypothetical = state.model_copy(update={"objectives": objectives})
    verdict = verdict_between(
        against.language,
        plan_language(hypothetical, profile.copy_forward_detector),
        against.summary,
        progress_summary,
        judge.streak,
        profile,
    )
    return Preview(state, against, verdict, tuple(judge.judged))


def preview_verdict(
    events: Iterable[ev.PlanEvent],
    statuses: Mapping[str, ObjectiveStatus],
    progress_summary: str | None,
    profile: RuleProfile = DEFAULT_PROFILE,
) -> dict[str, Any] | None:
    """The copy-forward verdict a review would get if it were completed now, assessing the
    objectives ``statuses`` names (objective id → status; the others keep theirs) with
    ``progress_summary``: what the review authoring page shows before the clinician completes
    it, so that a near copy is prevented rather than found. Pure; None before the opening.

    Completing the review with the same assessments and summary, before any other change,
    gives the same verdict (``review_history``)."""
    return preview(events, statuses, progress_summary, profile).verdict


def _reached(latest: float | None, target: float | None, direction: str) -> bool | None:
    if latest is None or target is None:
        return None
    return latest <= target if direction == "decrease" else latest >= target


def _measurements(
    final: PlanState, previous: _Point, current: _Point, assessed: Sequence[str]
) -> dict[str, Any]:
    """Scores administered after ``previous`` and up to ``current``, recorded by ``current``,
    grouped by instrument and set against the baseline and target of each assessed objective."""
    seen: list[Measurement] = sorted(
        (
            m
            for m in final.measurements.values()
            if m.voided_version is None
            and m.added_version <= current.version
            and previous.effective < m.administered_on <= current.effective
        ),
        key=lambda m: (m.administered_on, m.added_version),
    )
    by_instrument: dict[str, list[Measurement]] = {}
    names: dict[str, str] = {}
    assert current.state is not None  # review_history keeps the states it compares
    objectives = current.state.objectives
    for objective_id in assessed:
        objective = objectives.get(objective_id)
        if objective is not None and objective.measure is not None:
            key = objective.measure.instrument.casefold()
            by_instrument.setdefault(key, [])
            names.setdefault(key, objective.measure.instrument)
    for m in seen:
        by_instrument.setdefault(m.instrument.casefold(), []).append(m)
        names.setdefault(m.instrument.casefold(), m.instrument)
    instruments = []
    for key, found in by_instrument.items():
        latest = found[-1].score if found else None
        against = []
        for objective_id in assessed:
            objective = objectives.get(objective_id)
            measure = objective.measure if objective else None
            if objective is None or measure is None or measure.instrument.casefold() != key:
                continue
            breaches = [m.label for m in found if measure.breaches(m.score)]
            reached = (
                (None if latest is None else not breaches)
                if measure.direction == "maintain"
                else _reached(latest, measure.target, measure.direction)
            )
            against.append(
                {
                    "objective_id": objective.id,
                    "label": objective.label,
                    "baseline": measure.baseline,
                    "target": measure.target,
                    "direction": measure.direction,
                    "threshold": measure.threshold,
                    "keep": measure.keep,
                    "breaches": breaches,
                    "latest": latest,
                    "change_from_baseline": (
                        latest - measure.baseline
                        if latest is not None and measure.baseline is not None
                        else None
                    ),
                    "target_reached": reached,
                }
            )
        instruments.append(
            {
                "instrument": names[key],
                "count": len(found),
                "values": [
                    {
                        "id": m.id,
                        "label": m.label,
                        "score": m.score,
                        "administered_on": m.administered_on.isoformat(),
                        "recorded_at": rfc3339(m.recorded_at),
                    }
                    for m in found
                ],
                "objectives": against,
            }
        )
    return {"count": len(seen), "instruments": instruments}


def review_history(
    events: Sequence[ev.PlanEvent],
    *,
    late_entry_days: int = 7,
    profile: RuleProfile = DEFAULT_PROFILE,
) -> list[dict[str, Any]]:
    """Every completed review of one plan, in order of completion, with its verdict (by the
    copy-forward detector ``profile`` names)."""
    judge = ReviewJudge(keep_states=True, profile=profile)
    state = fold_judging(events, judge)
    if state is None:
        return []
    history = []
    for judged in judge.judged:
        event, against, current, verdict = (
            judged.event,
            judged.against,
            judged.current,
            judged.verdict,
        )
        # Kept: this judge copies the states it compares.
        assert against.state is not None
        assert current.state is not None
        review = state.reviews.get(event.review_id)
        objectives = current.state.objectives
        assessed = [a.objective_id for a in event.assessments]
        history.append(
            {
                "id": event.review_id,
                "label": review.label if review else None,
                "reason": review.reason if review else None,
                "started_at": rfc3339(review.started_at) if review else None,
                "effective_date": event.effective_date.isoformat(),
                "completed_at": rfc3339(event.recorded_at),
                "completed_version": event.originator_version,
                "completed_by": event.actor.model_dump(mode="json"),
                "entry_kind": event.entry_kind,
                "late_entry": is_late(event, late_entry_days),
                "assessments": [
                    {
                        "objective_id": a.objective_id,
                        "label": objectives[a.objective_id].label
                        if a.objective_id in objectives
                        else None,
                        "status": a.status,
                        "note": a.note,
                        "previous_status": a.previous_status,
                        "outcome": a.outcome,
                        "rationale": a.rationale,
                    }
                    for a in event.assessments
                ],
                "progress_summary": event.progress_summary,
                "client_input": event.client_input,
                "next_review_date": event.next_review_date.isoformat()
                if event.next_review_date
                else None,
                "compared_with": {
                    "kind": against.kind,
                    "label": against.label,
                    "version": against.version,
                    "effective_date": against.effective.isoformat(),
                },
                "measurements": _measurements(state, against, current, assessed),
                "changes": [
                    change
                    for change in plan_diff(
                        against.state, current.state, sections=_CHANGE_SECTIONS
                    )["changes"]
                    # Review metadata: every completed review moves it, so it says nothing.
                    if change["path"] != "plan.next_review_due"
                ],
                "copy_forward": verdict,
                # Only when given (0.3.0), so that a packet of an older history reads the same.
                **(
                    {"continuation_reason": event.continuation_reason}
                    if event.continuation_reason is not None
                    else {}
                ),
            }
        )
    return history
