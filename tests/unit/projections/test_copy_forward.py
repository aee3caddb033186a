"""Copy-forward verdicts, from review scenarios an auditor meets: a genuine review, a plan copied
forward with the same summary, one re-typed with only spacing, case, punctuation and dates
changed (still copied forward), and one genuinely revised."""

from __future__ import annotations

from datetime import date
from typing import Any

from plantrail.domain import commands as c
from plantrail.domain.values import ObjectiveStatus
from plantrail.projections.copy_forward import copy_forward_verdict, language_items
from plantrail.projections.findings import plan_findings
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import preview_verdict, review_history
from tests.support.histories import PlanBuilder, complete_review, depression_plan

SUMMARY = "Mood slightly better; two activities a week; safety plan half written."


def _verdicts(b: PlanBuilder) -> list[dict[str, Any]]:
    return [r["copy_forward"] for r in review_history(b.events)]


def _reviewed_once() -> tuple[PlanBuilder, dict[str, str]]:
    """A signed plan with a first, genuine review 30 days later."""
    b, ids = depression_plan()
    b.advance(days=30)
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=15, administered_on=b.today))
    complete_review(b, SUMMARY)
    return b, ids


def test_first_review_that_moves_objectives_is_updated() -> None:
    b, _ = _reviewed_once()
    [verdict] = _verdicts(b)
    assert verdict["verdict"] == "updated"
    assert verdict["streak"] == 0
    assert verdict["summary_repeated"] is False  # there is no earlier summary to repeat
    changes = verdict["changes"]
    assert isinstance(changes, list)
    assert {ch["path"] for ch in changes} == {
        "objectives[Objective 1.1].status",
        "objectives[Objective 1.2].status",
        "objectives[Objective 2.1].status",
    }
    assert all(ch["before"] == "open" and ch["after"] == "partially_met" for ch in changes)
    assert 0 < float(str(verdict["similarity"])) < 1


def test_review_that_changes_nothing_is_copied_forward_and_the_streak_grows() -> None:
    b, _ = _reviewed_once()
    for _ in range(2):
        b.advance(days=30)
        complete_review(b, SUMMARY)
    first, second, third = _verdicts(b)
    assert first["verdict"] == "updated"
    assert (second["verdict"], second["streak"], second["summary_repeated"]) == (
        "copied_forward",
        1,
        True,
    )
    assert (third["verdict"], third["streak"], third["summary_repeated"]) == (
        "copied_forward",
        2,
        True,
    )
    assert second["changes"] == []
    assert second["similarity"] == 1.0


def test_new_scores_alone_do_not_make_a_review_updated_but_are_counted() -> None:
    b, _ = _reviewed_once()
    b.advance(days=10)
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=13, administered_on=b.today))
    b.advance(days=10)
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=12, administered_on=b.today))
    b.advance(days=10)
    complete_review(b, "PHQ-9 down to 12; plan unchanged.")
    last = review_history(b.events)[-1]
    assert last["copy_forward"]["verdict"] == "copied_forward"
    assert last["copy_forward"]["summary_repeated"] is False
    assert last["measurements"]["count"] == 2


def test_retyping_with_other_spacing_case_punctuation_and_dates_is_still_copied_forward() -> None:
    b, ids = _reviewed_once()
    b.advance(days=30)
    b.run(
        c.ReviseObjective(
            objective_id=ids["objective21"],
            statement="WRITES A SAFETY PLAN  — warning signs; coping; contacts — by 2026-04-30",
            target_date=date(2026, 4, 30),
        ),
        rationale="Target date moved",
    )
    b.run(
        c.ReviseIntervention(
            intervention_id=ids["intervention3"],
            technique="Stanley-Brown safety plan; reviewed each session.",
        ),
        rationale="Reworded",
    )
    complete_review(b, "mood slightly better -- two activities a week, safety plan half written")
    second = _verdicts(b)[1]
    assert second["verdict"] == "copied_forward"
    assert second["streak"] == 1
    assert second["summary_repeated"] is True
    assert second["similarity"] == 1.0


def test_a_genuine_revision_is_updated_and_explained() -> None:
    b, ids = _reviewed_once()
    b.advance(days=30)
    b.run(
        c.ReviseObjective(
            objective_id=ids["objective12"],
            measure={
                "instrument": "activity log",
                "baseline": 0,
                "target": 7,
                "direction": "increase",
                "unit": "activities a week",
            },
        ),
        rationale="Four a week reached early; aiming higher",
    )
    complete_review(b, SUMMARY, {ids["objective21"]: "met"})
    second = _verdicts(b)[1]
    assert second["verdict"] == "updated"
    assert second["streak"] == 0
    assert second["summary_repeated"] is True  # same words, but the plan did change
    assert {
        "path": "objectives[Objective 1.2].measure.target",
        "kind": "changed",
        "before": 4.0,
        "after": 7.0,
    } in second["changes"]
    assert {
        "path": "objectives[Objective 2.1].status",
        "kind": "changed",
        "before": "partially_met",
        "after": "met",
    } in second["changes"]


def test_streak_resets_after_an_updated_review() -> None:
    b, ids = _reviewed_once()
    b.advance(days=30)
    complete_review(b, SUMMARY)
    b.advance(days=30)
    b.run(
        c.AddObjective(
            goal_id=ids["goal1"],
            statement="Sees a friend once a week.",
            measure={
                "instrument": "social log",
                "baseline": 0,
                "target": 1,
                "direction": "increase",
            },
        )
    )
    complete_review(b, "Added a social objective.")
    b.advance(days=30)
    complete_review(b, "Added a social objective.")
    assert [(v["verdict"], v["streak"]) for v in _verdicts(b)] == [
        ("updated", 0),
        ("copied_forward", 1),
        ("updated", 0),
        ("copied_forward", 1),
    ]
    added = _verdicts(b)[2]["changes"]
    assert any(
        ch["path"] == "objectives[Objective 1.3]"
        and ch["kind"] == "added"
        and ch["after"]["statement"] == "Sees a friend once a week."
        for ch in added
    )


def test_verdict_on_two_states_directly() -> None:
    b, _ = depression_plan()
    previous = b.at(b.state.version)
    b.run(c.NoteStrength(text="Enjoys cooking for friends."))
    verdict = copy_forward_verdict(previous, b.state, "same", "SAME.", 3)
    assert verdict["verdict"] == "updated"
    assert verdict["changes"] == [
        {
            "path": "strengths[1]",
            "kind": "added",
            "before": None,
            "after": "Enjoys cooking for friends.",
        }
    ]
    assert verdict["summary_repeated"] is True
    unchanged = copy_forward_verdict(previous, b.at(previous.version), None, None, 3)
    assert (unchanged["verdict"], unchanged["streak"], unchanged["summary_repeated"]) == (
        "copied_forward",
        4,
        False,
    )


def test_plan_language_leaves_out_ids_dates_reviews_signatures_and_measurements() -> None:
    b, ids = _reviewed_once()
    items = language_items(b.state)
    text = repr(items)
    for absent in (
        ids["objective11"],
        ids["goal1"],
        "2026-04-01",
        "Review 1",
        "authored",
        "agreed",
        "Measurement",
        "MRN-2001",
    ):
        assert absent not in text
    assert items["goals[Goal 1]"]["problems"] == ["Problem 1"]  # links kept, by label
    assert items["interventions[Intervention 1]"]["objectives"] == [
        "Objective 1.1",
        "Objective 1.2",
    ]


# ------------------------------------------------------------------ detector 2: near copies
_RETOUCHED = "Writes a safety plan (warning signs, coping, contacts) together by 19 January 2026."
_REORDERED = "Two activities a week; safety plan half written. Mood slightly better."


def _near_copy() -> tuple[PlanBuilder, dict[str, str]]:
    """A first genuine review, then one word added to an objective and the same assessments."""
    b, ids = _reviewed_once()
    b.advance(days=30)
    b.run(
        c.ReviseObjective(objective_id=ids["objective21"], statement=_RETOUCHED),
        rationale="Wording",
    )
    complete_review(b, _REORDERED)
    return b, ids


def test_a_one_word_edit_is_nearly_copied_forward_and_the_edit_is_named() -> None:
    b, _ = _near_copy()
    second = _verdicts(b)[1]
    assert second["verdict"] == "nearly_copied_forward"
    assert second["streak"] == 1  # a near copy carries the plan forward like a copy
    assert [(e["item"], e["description"]) for e in second["edits"]] == [
        ("Objective 2.1", "one word added: *together*")
    ]
    assert "Objective 2.1: one word added: *together*" in second["explanation"]
    assert second["summary_repeated"] is False  # the sentences were reordered ...
    assert second["summary_nearly_repeated"] is True  # ... which does not hide the repeat
    assert second["summary_similarity"] >= 0.95


def test_detector_1_keeps_its_verdicts_and_fields() -> None:
    b, _ = _near_copy()
    second = [
        r["copy_forward"]
        for r in review_history(b.events, profile=RuleProfile(copy_forward_detector=1))
    ][1]
    assert second["verdict"] == "updated"
    assert set(second) == {"verdict", "similarity", "changes", "streak", "summary_repeated"}


def test_a_changed_number_in_a_statement_is_a_genuine_update() -> None:
    b, ids = _reviewed_once()
    b.advance(days=30)
    b.run(
        c.ReviseObjective(
            objective_id=ids["objective12"],
            statement="Five planned activities a week from the activation menu, one social.",
        ),
        rationale="Raised",
    )
    complete_review(b, SUMMARY)
    second = _verdicts(b)[1]
    assert second["verdict"] == "updated"
    assert second["streak"] == 0
    assert "a number changed: four → five" in second["explanation"]


def test_the_copied_forward_finding_names_the_small_edits() -> None:
    b, _ = _near_copy()
    found = [
        f
        for f in plan_findings(b.state, b.events, RuleProfile(), b.today)
        if f["code"] == "REVIEW_COPIED_FORWARD"
    ]
    assert len(found) == 1
    assert "Objective 2.1: one word added: *together*" in found[0]["message"]
    by_detector_1 = plan_findings(b.state, b.events, RuleProfile(copy_forward_detector=1), b.today)
    assert "REVIEW_COPIED_FORWARD" not in {f["code"] for f in by_detector_1}


def test_the_preview_gives_the_verdict_the_review_will_get() -> None:
    b, ids = _reviewed_once()
    b.advance(days=30)
    b.run(
        c.ReviseObjective(objective_id=ids["objective21"], statement=_RETOUCHED),
        rationale="Wording",
    )
    same: dict[str, ObjectiveStatus] = dict.fromkeys(
        (ids["objective11"], ids["objective12"]), "partially_met"
    )
    preview = preview_verdict(b.events, same, _REORDERED)
    assert preview is not None
    assert preview["verdict"] == "nearly_copied_forward"
    # Assessing an objective as met makes it a genuine update before anything is written.
    moved = preview_verdict(b.events, {ids["objective21"]: "met"}, _REORDERED)
    assert moved is not None
    assert moved["verdict"] == "updated"
    complete_review(b, _REORDERED)
    assert _verdicts(b)[1] == preview
