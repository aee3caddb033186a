"""Review history: each completed review with assessments, scores since the previous review set
against baseline and target, the changes since then, and the copy-forward verdict."""

from __future__ import annotations

from datetime import date

import pytest

from plantrail.domain import commands as c
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState
from plantrail.domain.plan import apply as original
from plantrail.projections import reviews
from plantrail.projections.reviews import review_history
from tests.support.histories import complete_review, depression_plan


def test_review_row_has_the_api_fields_and_labels() -> None:
    b, ids = depression_plan()
    b.advance(days=45)
    review_id = complete_review(
        b, "Some progress.", {ids["objective21"]: "met"}, reason="milestone"
    )
    [row] = review_history(b.events)
    assert row["id"] == review_id
    assert row["label"] == "Review 1"
    assert row["reason"] == "milestone"
    assert row["effective_date"] == "2026-02-19"
    assert row["completed_at"] == "2026-02-19T09:00:00Z"
    assert row["progress_summary"] == "Some progress."
    assert row["next_review_date"] == "2026-05-20"
    assert [(a["label"], a["status"]) for a in row["assessments"]] == [
        ("Objective 1.1", "partially_met"),
        ("Objective 1.2", "partially_met"),
        ("Objective 2.1", "met"),
    ]
    assert set(row["copy_forward"]) == {
        "verdict",
        "similarity",
        "changes",
        "streak",
        "summary_repeated",
        "detector",
        "edits",
        "explanation",
        "summary_similarity",
        "summary_nearly_repeated",
    }


def test_first_review_is_compared_with_the_plan_at_the_first_clinician_signature() -> None:
    b, ids = depression_plan()
    signed = next(e.originator_version for e in b.events if type(e).__name__ == "SignatureCaptured")
    b.advance(days=20)
    b.run(
        c.ReviseObjective(objective_id=ids["objective11"], target_date=date(2026, 5, 1)),
        rationale="Slower start",
    )
    b.advance(days=20)
    complete_review(b, "Slow start.")
    [row] = review_history(b.events)
    assert row["compared_with"] == {
        "kind": "first_signature",
        "label": None,
        "version": signed,
        "effective_date": "2026-01-05",
    }
    summaries = [ch["summary"] for ch in row["changes"]]
    assert "Objective 1.1 target date changed from 2026-04-01 to 2026-05-01" in summaries
    assert "Objective 1.1 marked partially met (was open)" in summaries
    # Scores are reported on their own, reviews are the rows themselves, and the due date
    # moves at every review.
    assert not any(ch["path"].startswith(("measurements", "reviews")) for ch in row["changes"])
    assert "plan.next_review_due" not in [ch["path"] for ch in row["changes"]]


def test_scores_since_the_previous_review_against_baseline_and_target() -> None:
    b, ids = depression_plan()
    b.advance(days=14)
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=16, administered_on=b.today))
    b.advance(days=14)
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=12, administered_on=b.today))
    b.run(c.RecordMeasurement(instrument="activity log", score=3, administered_on=b.today))
    [wrong] = b.run(c.RecordMeasurement(instrument="PHQ-9", score=2, administered_on=b.today))
    b.run(c.VoidMeasurement(measurement_id=wrong.measurement_id), rationale="Typed 2 for 12")  # type: ignore[attr-defined]
    b.advance(days=2)
    complete_review(b, "First review.")
    b.advance(days=30)
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=8, administered_on=b.today))
    complete_review(b, "Second review.")
    first, second = review_history(b.events)
    # The intake score (taken the day the plan was signed) is the baseline, not progress.
    assert first["measurements"]["count"] == 3
    phq9 = next(i for i in first["measurements"]["instruments"] if i["instrument"] == "PHQ-9")
    assert [v["score"] for v in phq9["values"]] == [16, 12]
    [against] = phq9["objectives"]
    assert against == {
        "objective_id": ids["objective11"],
        "label": "Objective 1.1",
        "baseline": 19,
        "target": 9,
        "direction": "decrease",
        "threshold": None,
        "keep": None,
        "breaches": [],
        "latest": 12,
        "change_from_baseline": -7,
        "target_reached": False,
    }
    activity = next(
        i for i in first["measurements"]["instruments"] if i["instrument"] == "activity log"
    )
    assert activity["objectives"][0]["target_reached"] is False  # 3 of 4 a week
    steps = next(
        i for i in first["measurements"]["instruments"] if i["instrument"] == "safety plan steps"
    )
    assert steps["count"] == 0  # an objective's instrument with no score is shown, not hidden
    phq9 = next(i for i in second["measurements"]["instruments"] if i["instrument"] == "PHQ-9")
    assert [v["score"] for v in phq9["values"]] == [8]
    assert phq9["objectives"][0]["target_reached"] is True


def test_a_score_recorded_after_the_review_was_completed_is_not_counted_for_it() -> None:
    b, _ = depression_plan()
    b.advance(days=30)
    complete_review(b, "Reviewed.")
    b.advance(days=10)
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=11, administered_on=date(2026, 2, 1)))
    [row] = review_history(b.events)
    assert row["measurements"]["count"] == 0


def test_history_folds_the_events_once(monkeypatch: pytest.MonkeyPatch) -> None:
    b, _ = depression_plan()
    for _ in range(4):
        b.advance(days=30)
        complete_review(b, "Same.")
    applied: list[int] = []

    def counting(state: PlanState, event: PlanEvent) -> PlanState:
        applied.append(event.originator_version)
        return original(state, event)

    monkeypatch.setattr(reviews, "apply", counting)
    assert len(review_history(b.events)) == 4
    assert applied == list(range(2, b.state.version + 1))
