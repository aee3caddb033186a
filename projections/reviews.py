"""Review history (spec: Projections 5; spec/api.md "A review"), with copy-forward verdicts.

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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from plantrail.domain import events as ev
from plantrail.domain.plan import Measurement, PlanState, apply, start
from plantrail.projections.copy_forward import PlanLanguage, plan_language, verdict_between
from plantrail.projections.diff import SECTIONS, plan_diff
from plantrail.projections.history import is_late
from plantrail.projections.signatures import rfc3339

__all__ = ["review_history"]

_CHANGE_SECTIONS = tuple(s for s in SECTIONS if s not in ("measurements", "reviews"))
"""Measurements are reported on their own; the reviews themselves are the rows of the history."""


@dataclass(frozen=True)
class _Point:
    """The plan at a point a review is compared with."""

    kind: str
    label: str | None
    version: int
    effective: date
    state: PlanState
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


def _point(
    kind: str, label: str | None, event: ev.PlanEvent, state: PlanState, summary: str | None
) -> _Point:
    return _Point(
        kind,
        label,
        event.originator_version,
        event.effective_date,
        _snapshot(state),
        plan_language(state),
        summary,
    )


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
            against.append(
                {
                    "objective_id": objective.id,
                    "label": objective.label,
                    "baseline": measure.baseline,
                    "target": measure.target,
                    "direction": measure.direction,
                    "latest": latest,
                    "change_from_baseline": (
                        latest - measure.baseline
                        if latest is not None and measure.baseline is not None
                        else None
                    ),
                    "target_reached": _reached(latest, measure.target, measure.direction),
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
    events: Sequence[ev.PlanEvent], *, late_entry_days: int = 7
) -> list[dict[str, Any]]:
    """Every completed review of one plan, in order of completion, with its verdict."""
    state: PlanState | None = None
    opening: _Point | None = None
    previous: _Point | None = None
    streak = 0
    done: list[tuple[ev.ReviewCompleted, _Point, _Point, dict[str, Any]]] = []
    for event in events:
        if isinstance(event, ev.PlanOpened):
            state = start(event)
            opening = _point("opening", None, event, state, None)
            continue
        if state is None:
            continue  # a filtered history can lack its opening
        apply(state, event)
        if (
            isinstance(event, ev.SignatureCaptured)
            and event.role == "clinician"
            and previous is None
        ):
            previous = _point("first_signature", None, event, state, None)
        elif isinstance(event, ev.ReviewCompleted):
            review = state.reviews.get(event.review_id)
            label = review.label if review else None
            current = _point("review", label, event, state, event.progress_summary)
            # Without a signature the plan could not be reviewed; an imported or filtered
            # history still gets a verdict, against the plan as opened.
            against = previous or opening
            assert against is not None
            verdict = verdict_between(
                against.language, current.language, against.summary, current.summary, streak
            )
            streak = verdict["streak"]
            done.append((event, against, current, verdict))
            previous = current
    if state is None:
        return []
    history = []
    for event, against, current, verdict in done:
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
            }
        )
    return history
