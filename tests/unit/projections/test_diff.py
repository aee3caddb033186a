"""Diff between two points of a plan: item by item, in words and as data."""

from __future__ import annotations

from plantrail.domain import commands as c
from plantrail.projections.diff import plan_diff
from tests.support.histories import depression_plan


def test_no_changes_between_a_version_and_itself() -> None:
    b, _ = depression_plan()
    result = plan_diff(b.at(10), b.at(10))
    assert result == {"from_version": 10, "to_version": 10, "changes": []}


def test_changed_field_carries_item_label_path_values_and_sentence() -> None:
    b, ids = depression_plan()
    start = b.state.version
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
        rationale="Reached early",
    )
    result = plan_diff(b.at(start), b.state)
    target = next(
        ch for ch in result["changes"] if ch["path"] == "objectives[Objective 1.2].measure.target"
    )
    assert target == {
        "item_id": ids["objective12"],
        "label": "Objective 1.2",
        "path": "objectives[Objective 1.2].measure.target",
        "kind": "changed",
        "before": 4.0,
        "after": 7.0,
        "summary": "Objective 1.2 target changed from 4 to 7 activities a week",
    }
    superseded = [ch for ch in result["changes"] if ch["path"].startswith("signatures")]
    assert {ch["summary"] for ch in superseded} == {
        f"Signature of Dana Reyes, LCSW (clinician, authored) superseded by version {start + 1}",
        f"Signature of Jordan Ellis (client, agreed) superseded by version {start + 1}",
    }


def test_added_and_removed_items_and_the_reverse_direction() -> None:
    b, ids = depression_plan()
    start = b.state.version
    new = b.add(
        c.AddObjective(
            goal_id=ids["goal2"], statement="Calls a named contact when a warning sign appears."
        )
    )
    b.run(c.AddDiagnosis(code="F41.1", description="Generalised anxiety disorder"))
    b.run(c.RemoveDiagnosis(code="F41.1"), rationale="Added in error")
    b.run(c.RemoveDiagnosis(code="F32.1"), rationale="Rediagnosed")
    forward = plan_diff(b.at(start), b.state)
    kinds = {(ch["label"], ch["kind"]) for ch in forward["changes"]}
    assert ("Objective 2.2", "added") in kinds
    assert ("Diagnosis F32.1", "removed") in kinds
    assert not any(ch["label"] == "Diagnosis F41.1" for ch in forward["changes"])  # came and went
    added = next(ch for ch in forward["changes"] if ch["label"] == "Objective 2.2")
    assert added["item_id"] == new
    assert (
        added["summary"]
        == "Objective 2.2 added: “Calls a named contact when a warning sign appears.”"
    )
    backward = plan_diff(b.state, b.at(start))
    assert (backward["from_version"], backward["to_version"]) == (b.state.version, start)
    assert {(ch["label"], ch["kind"]) for ch in backward["changes"]} >= {
        ("Objective 2.2", "removed"),
        ("Diagnosis F32.1", "added"),
    }


def test_status_changes_read_as_what_happened() -> None:
    b, ids = depression_plan()
    start = b.state.version
    b.run(c.ReviseProblem(problem_id=ids["problem1"], status="resolved"), rationale="Remitted")
    b.run(
        c.ReviseIntervention(intervention_id=ids["intervention3"], status="discontinued"),
        rationale="Plan written",
    )
    b.run(c.MarkObjectiveStatus(objective_id=ids["objective21"], status="met"), rationale="Written")
    b.run(c.VoidMeasurement(measurement_id=ids["intake_phq9"]), rationale="Wrong client")
    summaries = {ch["summary"] for ch in plan_diff(b.at(start), b.state)["changes"]}
    assert {
        "Problem 1 resolved",
        "Intervention 3 discontinued",
        "Objective 2.1 marked met (was open)",
        "Measurement 1 voided",
    } <= summaries


def test_sections_can_be_limited() -> None:
    b, _ = depression_plan()
    start = b.state.version
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=12, administered_on=b.today))
    assert plan_diff(b.at(start), b.state, sections=("objectives",))["changes"] == []
    assert [ch["kind"] for ch in plan_diff(b.at(start), b.state)["changes"]] == ["added"]
