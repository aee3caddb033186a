"""Snapshots: format 2 keeps the shared part (measurements, reviews, rationales, entry kinds)
after a newline so the store can trim it; a trimmed snapshot is completed from a later whole
state of the same plan and then equals the plan folded to its version. Format 1 still reads; an
unknown format is not read (the plan is refolded from its events)."""

from __future__ import annotations

from uuid import uuid4

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.plan import PlanState
from plantrail.domain.snapshots import DecodedSnapshots, decode, snapshot_bytes
from tests.support.decider import TODAY, Plan, active_plan

WHY = {"rationale": "Entered on the wrong client"}


def trimmed(state: PlanState) -> bytes:
    """What the store keeps of all but a plan's newest snapshot: the main part only."""
    data = snapshot_bytes(state)
    return data[: data.index(b"\n")]


def history() -> tuple[Plan, int]:
    """A plan with a score voided and a review completed before the cut, and a score and a
    review whose void and completion come after it."""
    plan, _goal, first, second = active_plan()

    def score(value: int) -> str:
        event = plan.add(
            c.RecordMeasurement(instrument="PHQ-9", score=value, administered_on=TODAY)
        )
        assert isinstance(event, ev.MeasurementRecorded)
        return event.measurement_id

    def review() -> str:
        event = plan.add(c.StartReview())
        assert isinstance(event, ev.ReviewStarted)
        return event.review_id

    def complete(review_id: str) -> None:
        plan.run(
            c.CompleteReview(
                review_id=review_id,
                assessments=[
                    c.AssessmentIn(objective_id=first.objective_id, status="partially_met"),
                    c.AssessmentIn(objective_id=second.objective_id, status="open"),
                ],
                progress_summary="Slow start",
            )
        )

    plan.run(c.VoidMeasurement(measurement_id=score(19)), **WHY)
    complete(review())
    kept, open_review = score(16), review()
    plan.add(c.RecordRationale(text="Intake score", explains_version=plan.state.version))
    cut = plan.state.version
    plan.run(c.VoidMeasurement(measurement_id=kept), **WHY)
    complete(open_review)
    score(14)
    return plan, cut


def test_a_whole_snapshot_reads_back_as_the_state() -> None:
    plan, _cut = history()
    found = decode(snapshot_bytes(plan.state))
    assert found is not None
    assert found.complete
    assert found.state == plan.state


def test_a_trimmed_snapshot_is_completed_from_a_later_whole_state() -> None:
    plan, cut = history()
    main = decode(trimmed(plan.at(cut)))
    assert main is not None
    assert not main.complete
    assert (main.state.measurements, main.state.reviews, main.state.rationales) == ({}, {}, [])

    cache = DecodedSnapshots()
    assert cache.complete(plan.state.plan_id, main.state) is None  # nothing to complete from
    cache.put(plan.state.plan_id, plan.state.version, plan.state, whole=False)
    assert cache.complete(plan.state.plan_id, main.state) is None  # not whole: not a source
    cache.put(plan.state.plan_id, plan.state.version, plan.state, whole=True)
    completed = cache.complete(plan.state.plan_id, main.state)
    # the score not yet voided and the review not yet completed, as they stood at the cut
    assert completed == plan.at(cut)
    # the same whole state completes another trimmed snapshot of the plan
    earlier = decode(trimmed(plan.at(cut - 3)))
    assert earlier is not None
    assert cache.complete(plan.state.plan_id, earlier.state) == plan.at(cut - 3)


def test_a_state_that_breaks_the_folds_order_is_never_completed_from() -> None:
    plan, cut = history()
    main = decode(trimmed(plan.at(cut)))
    assert main is not None
    broken = plan.state.model_copy(deep=True)
    broken.measurements = dict(reversed(list(broken.measurements.items())))
    cache = DecodedSnapshots()
    cache.put(broken.plan_id, broken.version, broken, whole=True)
    assert cache.complete(broken.plan_id, main.state) is None


def test_a_format_1_snapshot_still_reads_and_an_unknown_format_does_not() -> None:
    state = Plan().state
    old = b'{"format":1,"state":' + state.model_dump_json().encode() + b"}"
    found = decode(old)
    assert found is not None
    assert found.complete
    assert found.state == state
    assert decode(b'{"format":3,"state":{}}') is None
    assert decode(b"") is None


def test_the_decoded_snapshots_keep_the_most_recently_used() -> None:
    cache = DecodedSnapshots(maxsize=2)
    plan_id = uuid4()
    state = Plan().state
    cache.put(plan_id, 1, state)
    cache.put(plan_id, 2, state)
    assert cache.get(plan_id, 1) is state
    cache.put(plan_id, 3, state)
    assert (cache.get(plan_id, 1), cache.get(plan_id, 2), cache.get(plan_id, 3)) == (
        state,
        None,
        state,
    )
    cache.clear()
    assert cache.get(plan_id, 1) is None
