"""For random small plans, the verdict a review's dry run previews is the verdict the review gets
once completed with the same input (``continuation.continuation_preview`` against
``reviews.review_history``), under both copy-forward detectors: the gateway refuses a
copied-forward review on exactly the verdict that is then recorded."""

from __future__ import annotations

import contextlib

from hypothesis import event, given, settings
from hypothesis import strategies as st

from plantrail.domain import commands as c
from plantrail.domain.errors import PlantrailError
from plantrail.domain.values import ObjectiveStatus
from plantrail.projections.continuation import continuation_preview
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import review_history
from tests.support.histories import PlanBuilder, depression_plan

SUMMARIES = ("Mood a little better.", "mood a little better", "PHQ-9 of 12.", "No change.")
STATUSES: tuple[ObjectiveStatus, ...] = ("partially_met", "not_met", "open")
STEP = st.tuples(
    st.integers(min_value=0, max_value=4),  # which change
    st.integers(min_value=0, max_value=3),  # a pick: summary, status, score
    st.integers(min_value=1, max_value=40),  # days until the next change
)
PROFILES = st.sampled_from([RuleProfile(), RuleProfile(copy_forward_detector=1)])


def _completion(
    b: PlanBuilder, pick: int, reason: str | None, *, same: bool = False
) -> c.CompleteReview:
    """A review assessing each objective by ``pick``, or (``same``) as each now stands."""
    review_id = b.add(c.StartReview(reason="scheduled"))
    return c.CompleteReview(
        review_id=review_id,
        assessments=[
            c.AssessmentIn(
                objective_id=o.id,
                status="met"
                if o.status == "met"
                else (o.status if same else STATUSES[(pick + i) % len(STATUSES)]),
            )
            for i, o in enumerate(b.state.objectives.values())
            if o.status != "no_longer_relevant"
        ],
        progress_summary=SUMMARIES[pick % len(SUMMARIES)],
        continuation_reason=reason,
    )


def _step(b: PlanBuilder, ids: dict[str, str], step: tuple[int, int, int]) -> None:
    kind, pick, days = step
    b.advance(days=days)
    with contextlib.suppress(PlantrailError):  # a refused change stores nothing: skip it
        if kind == 0:
            b.run(_completion(b, pick, "Continuing as planned."))
        elif kind == 1:  # a small edit of a statement's wording
            words = ("social", "sociable", "shared", "social at least")
            b.run(
                c.ReviseObjective(
                    objective_id=ids["objective12"],
                    statement="Four planned activities a week from the activation menu, "
                    f"one {words[pick]}.",
                ),
                rationale="Wording",
            )
        elif kind == 2:
            b.run(c.RecordMeasurement(instrument="PHQ-9", score=10 + pick, administered_on=b.today))
        elif kind == 3:
            b.run(c.NoteStrength(text=f"Strength {pick}"))
        else:
            b.run(
                c.ReviseObjective(
                    objective_id=ids["objective11"],
                    measure={"instrument": "PHQ-9", "baseline": 19, "target": 5 + pick},
                ),
                rationale="Target revised",
            )


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(STEP, max_size=6),
    last=st.integers(min_value=0, max_value=3),
    same=st.booleans(),
    profile=PROFILES,
)
def test_the_previewed_verdict_is_the_recorded_verdict(
    steps: list[tuple[int, int, int]], last: int, same: bool, profile: RuleProfile
) -> None:
    b, ids = depression_plan()
    for step in steps:
        _step(b, ids, step)
    b.advance(days=30)
    command = _completion(b, last, "Continuing unchanged is right for now.", same=same)
    found = continuation_preview(b.events, command, profile, ())
    assert found["version"] == b.state.version
    b.run(command)
    recorded = review_history(b.events, profile=profile)[-1]["copy_forward"]
    event(recorded["verdict"])
    assert recorded == found["verdict"]
    assert found["requires_reason"] == (
        recorded["verdict"] in ("copied_forward", "nearly_copied_forward")
    )
