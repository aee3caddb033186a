"""What a review or a renewal would be judged if it were completed now (docs/projections.md,
"Continuation reason"), so that a copied-forward record is prevented rather than found.

``continuation_preview`` folds a plan's events and answers, for a ``CompleteReview`` or a
``RenewPlan`` about to be run on it: the copy-forward verdict the record would get (the same
verdict ``reviews.review_history`` gives the review once completed with the same assessments
and summary, before any other change), whether the clinician must then state a continuation
reason (``requires_reason``), the objectives whose scores or statuses have not moved over the
last reviews, this plan's objective statements found verbatim in other clients' plans (given by
the caller, from the caseload read model), and one sentence a clinician reads. Pure: no store.

A renewal is judged as a review would be: the plan language now against the last completed
review (or the first clinician signature, or the opening), with no progress summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from plantrail.domain import commands as cmd
from plantrail.domain import events as ev
from plantrail.domain.plan import Measurement, Objective, PlanState, Review
from plantrail.domain.values import ObjectiveStatus
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import Preview, preview

__all__ = [
    "REQUIRES_REASON",
    "SharedStatement",
    "applies",
    "continuation_preview",
    "judge",
    "unmoved_objectives",
]

REQUIRES_REASON = frozenset({"copied_forward", "nearly_copied_forward"})
"""The verdicts that need a continuation reason: the plan carried forward unchanged, or with
small edits only."""

ContinuationCommand = cmd.CompleteReview | cmd.RenewPlan


@dataclass(frozen=True)
class SharedStatement:
    """One of this plan's objective statements used verbatim (after normalisation) in the plan
    of another client. The other clients are counted, never named: the caller may not reach
    their plans."""

    objective_id: str
    label: str
    statement: str
    other_clients: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def applies(state: PlanState | None, command: ContinuationCommand) -> bool:
    """Whether the continuation rule judges ``command`` on ``state``: a review that exists and
    is not yet completed, or a renewal of an active plan. Anything else is left to the engine,
    which refuses it (or gives a retried command its first answer)."""
    if state is None:
        return False
    if isinstance(command, cmd.CompleteReview):
        review = state.reviews.get(command.review_id)
        return review is not None and review.completed_version is None
    return state.status == "active"


def _completed_reviews(state: PlanState) -> list[Review]:
    done = [r for r in state.reviews.values() if r.completed_version is not None]
    return sorted(done, key=lambda r: r.completed_version or 0)


def _latest_score(
    measurements: Sequence[Measurement], objective: Objective, version: int | None
) -> float | None:
    """The latest score of ``objective`` (linked to it, or of its instrument) recorded by
    ``version`` (None: now), among those not voided."""
    measure = objective.measure
    assert measure is not None
    instrument = measure.instrument.casefold()
    found = [
        m
        for m in measurements
        if m.voided_version is None
        and (version is None or m.added_version <= version)
        and (m.objective_id == objective.id or m.instrument.casefold() == instrument)
    ]
    if not found:
        return None
    return max(found, key=lambda m: (m.administered_on, m.added_version)).score


def unmoved_objectives(
    state: PlanState,
    profile: RuleProfile,
    statuses: dict[str, ObjectiveStatus] | None = None,
) -> list[dict[str, Any]]:
    """Objectives that have not moved over the last ``profile.stalled_reviews`` completed
    reviews: a measured objective whose latest score now is the one it had at each of them,
    or an objective assessed ``not_met`` at that many consecutive reviews. ``statuses`` are the
    assessments of the review about to be completed, which counts as the latest review."""
    wanted = profile.stalled_reviews
    reviews = _completed_reviews(state)
    measurements = list(state.measurements.values())
    out = []
    for objective in state.objectives.values():
        if objective.status in ("met", "no_longer_relevant"):
            continue
        scores: list[float | None] = []
        unmoved = False
        if objective.measure is not None and len(reviews) >= wanted:
            scores = [
                _latest_score(measurements, objective, r.completed_version)
                for r in reviews[-wanted:]
            ]
            now = _latest_score(measurements, objective, None)
            scores.append(now)
            unmoved = now is not None and all(score == now for score in scores)
        assessed: list[ObjectiveStatus | None] = [
            next((a.status for a in r.assessments if a.objective_id == objective.id), None)
            for r in reviews
        ]
        if statuses is not None:
            assessed.append(statuses.get(objective.id))
        if len(assessed) >= wanted and all(s == "not_met" for s in assessed[-wanted:]):
            unmoved = True
        if unmoved:
            out.append(
                {
                    "objective_id": objective.id,
                    "label": objective.label,
                    "instrument": objective.measure.instrument if objective.measure else None,
                    "scores": scores,
                }
            )
    return out


_VERDICT_WORDS = {
    "copied_forward": "copied forward",
    "nearly_copied_forward": "nearly copied forward",
    "updated": "updated",
}


def _bare(when: str) -> str:
    """'at Review 2' → 'Review 2'; 'when the plan was opened' → 'the plan was opened'."""
    return when.removeprefix("at ").removeprefix("when ")


def _point_words(found: Preview) -> str:
    if found.against_kind == "review" and found.against_label:
        return f"at {found.against_label}"
    if found.against_kind == "first_signature":
        return "when the plan was first signed"
    return "when the plan was opened"


def _message(
    command: ContinuationCommand, found: Preview, subject: str, verdict: dict[str, Any] | None
) -> str:
    """One plain sentence a clinician reads before completing or renewing."""
    doing = "Completed now" if isinstance(command, cmd.CompleteReview) else "Renewed now"
    if verdict is None:
        return f"{doing}, {subject} has nothing to be compared with."
    words = _VERDICT_WORDS.get(verdict["verdict"], verdict["verdict"])
    when = _point_words(found)
    percent = f"{verdict['similarity'] * 100:.0f}%"
    if verdict["verdict"] == "copied_forward":
        why = f"the plan language is {percent} the same as {when}"
    elif verdict["verdict"] == "nearly_copied_forward":
        edits = "; ".join(f"{e['item']}: {e['description']}" for e in verdict.get("edits", []))
        why = f"the plan language is {percent} the same as {when}, with small edits only"
        if edits:
            why += f" ({edits})"
    else:
        explanation = str(verdict.get("explanation") or "").removeprefix("Updated: ")
        why = explanation.rstrip(".") or f"the plan language changed since {_bare(when)}"
        return f"{doing}, {subject} would be judged {words}: {why}."
    if verdict.get("summary_repeated"):
        why += " and the progress summary repeats it"
    elif verdict.get("summary_nearly_repeated"):
        why += " and the progress summary nearly repeats it"
    return (
        f"{doing}, {subject} would be judged {words}: {why}. Change what needs changing, "
        "or state why continuing unchanged is clinically right."
    )


def continuation_preview(
    events: Iterable[ev.PlanEvent],
    command: ContinuationCommand,
    profile: RuleProfile,
    shared: Sequence[SharedStatement],
) -> dict[str, Any]:
    """What the record would get if ``command`` were completed now (``judge``'s preview)."""
    return judge(events, command, profile, shared)[1]


def judge(
    events: Iterable[ev.PlanEvent],
    command: ContinuationCommand,
    profile: RuleProfile,
    shared: Sequence[SharedStatement],
) -> tuple[PlanState | None, dict[str, Any]]:
    """The plan folded from ``events`` (None without its opening; never to be changed), and
    what the record would get if ``command`` were completed now on it (see the module
    docstring). Keys: ``verdict`` (the copy-forward verdict, None
    when there is nothing to compare with), ``requires_reason``, ``similarity``,
    ``summary_repeated``, ``unmoved_objectives``, ``shared_statements``, ``message``,
    ``version`` (the version judged) and ``applies`` (whether the rule judges the command at
    all: False for a review that is not open or a plan that is not active, which the engine
    refuses)."""
    statuses: dict[str, ObjectiveStatus] | None = None
    if isinstance(command, cmd.CompleteReview):
        statuses = {a.objective_id: a.status for a in command.assessments}
        found = preview(events, statuses, command.progress_summary, profile)
    else:
        found = preview(events, {}, None, profile)
    state, verdict = found.state, found.verdict
    if isinstance(command, cmd.CompleteReview):
        review = state.reviews.get(command.review_id) if state is not None else None
        subject = review.label if review is not None else "the review"
    else:
        subject = "the renewed plan"
    return state, {
        "applies": applies(state, command),
        "verdict": verdict,
        "requires_reason": verdict is not None and verdict["verdict"] in REQUIRES_REASON,
        "similarity": verdict["similarity"] if verdict is not None else None,
        "summary_repeated": bool(verdict and verdict["summary_repeated"]),
        "unmoved_objectives": unmoved_objectives(state, profile, statuses)
        if state is not None
        else [],
        "shared_statements": [s.as_json() for s in shared],
        "message": _message(command, found, subject, verdict),
        "version": state.version if state is not None else 0,
    }
