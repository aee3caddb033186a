"""The instrument catalogue (0.3.0) and custom measures: canonical spellings, clinical bands,
and a custom measure's own stated range, checked in the command (baseline, target, threshold,
naming the field) and in the decider (a score linked to the objective)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from plantrail.domain import commands as c
from plantrail.domain.errors import InvalidInput
from plantrail.domain.instruments import (
    CATALOGUE,
    INSTRUMENT_RANGES,
    canonical_instrument,
    instrument_of,
)
from plantrail.domain.parsing import parse_command
from tests.support.decider import TODAY, Plan, active_plan
from tests.unit.domain.refusals import refused

DISTRESS = {
    "instrument": "Subjective distress (SUDS)",
    "baseline": 8,
    "target": 3,
    "unit": "points",
    "scale_min": 0,
    "scale_max": 10,
}
"""A custom measure that states its range: a 0–10 self-rating."""


def objective(measure: dict[str, Any]) -> c.AddObjective:
    return c.AddObjective(goal_id="g1", statement="Distress on the bus at most 3", measure=measure)


def invalid(measure: dict[str, Any]) -> dict[str, str]:
    data = {"goal_id": "g1", "statement": "Distress on the bus at most 3", "measure": measure}
    with pytest.raises(InvalidInput) as info:
        parse_command(c.AddObjective, data)
    return {p.field: p.message for p in info.value.errors}


# ------------------------------------------------------------------------------ catalogue
@pytest.mark.parametrize(
    ("spelled", "canonical"),
    [
        ("phqa", "PHQ-A"),
        ("PHQ A", "PHQ-A"),
        ("cssrs", "C-SSRS"),
        ("c-ssrs", "C-SSRS"),
        ("phq9", "PHQ-9"),
    ],
)
def test_spellings_are_stored_under_the_canonical_name(spelled: str, canonical: str) -> None:
    assert canonical_instrument(spelled) == canonical
    entry = instrument_of(spelled)
    assert entry is not None
    assert entry.name == canonical


def test_an_unknown_instrument_passes_unchanged_and_is_not_in_the_catalogue() -> None:
    assert canonical_instrument("activity log") == "activity log"
    assert instrument_of("activity log") is None


def test_the_catalogue_knows_seven_instruments_each_worse_upwards() -> None:
    assert sorted(CATALOGUE) == sorted(INSTRUMENT_RANGES)
    assert len(CATALOGUE) == 7
    assert INSTRUMENT_RANGES["PHQ-A"] == (0, 27)
    assert INSTRUMENT_RANGES["C-SSRS"] == (0, 6)
    assert {i.direction for i in CATALOGUE.values()} == {"decrease"}


@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (15, "moderately severe"), (19, "moderately severe"), (20, "severe"), (27, "severe")],
)  # fmt: skip
def test_phq9_bands_start_at_the_published_cut_offs(score: int, band: str) -> None:
    assert CATALOGUE["PHQ-9"].band(score) == band


def test_a_phqa_score_is_range_checked_like_a_phq9_score() -> None:
    with pytest.raises(ValidationError) as info:
        objective({"instrument": "phqa", "baseline": 28, "target": 9})
    assert "outside the PHQ-A range" in str(info.value)
    measure = objective({"instrument": "phqa", "baseline": 17, "target": 9}).measure
    assert measure is not None
    assert measure.instrument == "PHQ-A"


# ------------------------------------------------------------------------ custom measures
def test_a_custom_measure_may_state_its_range() -> None:
    measure = objective(DISTRESS).measure
    assert measure is not None
    assert (measure.scale_min, measure.scale_max) == (0, 10)


def test_a_custom_measure_states_both_ends_of_its_range_or_neither() -> None:
    for missing in ("scale_min", "scale_max"):
        stated = {k: v for k, v in DISTRESS.items() if k != missing}
        assert "state both ends of the range" in " ".join(invalid(stated).values())
    neither = {k: v for k, v in DISTRESS.items() if not k.startswith("scale_")}
    assert objective(neither).measure is not None


def test_a_range_runs_upwards() -> None:
    for low, high in ((10, 0), (5, 5)):
        problems = invalid({**DISTRESS, "scale_min": low, "scale_max": high})
        assert problems == {"measure.scale_max": "scale_max must be greater than scale_min"}


def test_a_range_is_finite() -> None:
    problems = invalid({**DISTRESS, "scale_max": float("inf")})
    assert problems == {"measure": "must be a finite number"}  # as for a non-finite baseline


def test_a_catalogue_instrument_refuses_a_stated_range() -> None:
    problems = invalid(
        {"instrument": "gad7", "baseline": 14, "target": 7, "scale_min": 0, "scale_max": 30}
    )
    assert list(problems) == ["measure.scale_min"]
    assert "for custom measures; GAD-7 is 0–21" in problems["measure.scale_min"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"baseline": 11}, "measure.baseline"),
        ({"target": -1}, "measure.target"),
        (
            {"direction": "maintain", "target": None, "threshold": 12, "keep": "at_most"},
            "measure.threshold",
        ),
    ],
)
def test_a_value_outside_the_stated_range_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    problems = invalid({**DISTRESS, **changes})
    assert list(problems) == [field]
    assert "is outside the stated range 0–10" in problems[field]


def test_a_custom_measure_without_a_range_is_not_range_checked() -> None:
    measure = objective(
        {"instrument": "Subjective distress (SUDS)", "baseline": 80, "target": 30}
    ).measure
    assert measure is not None
    assert measure.scale_max is None


# ---------------------------------------------------------- scores of a custom objective
def _with_distress_objective() -> tuple[Plan, str]:
    plan, goal, *_ = active_plan()
    added = plan.add(
        c.AddObjective(goal_id=goal, statement="Distress on the bus at most 3", measure=DISTRESS)
    )
    return plan, str(added.objective_id)  # type: ignore[attr-defined]


def test_a_score_linked_to_a_custom_objective_must_fall_within_its_range() -> None:
    plan, objective_id = _with_distress_objective()
    refused(
        plan,
        c.RecordMeasurement(
            instrument="Subjective distress (SUDS)", score=11, administered_on=TODAY,
            objective_id=objective_id,
        ),
        "score",
        "score 11 is outside the stated range 0–10",
    )  # fmt: skip
    recorded = plan.add(
        c.RecordMeasurement(
            instrument="Subjective distress (SUDS)", score=6.5, administered_on=TODAY,
            objective_id=objective_id,
        )
    )  # fmt: skip
    assert recorded.score == 6.5  # type: ignore[attr-defined]


def test_a_score_not_linked_to_the_objective_is_not_checked_against_its_range() -> None:
    plan, _ = _with_distress_objective()
    recorded = plan.add(
        c.RecordMeasurement(
            instrument="Subjective distress (SUDS)", score=11, administered_on=TODAY
        )
    )
    assert recorded.score == 11  # type: ignore[attr-defined]


def test_a_score_of_another_instrument_linked_to_a_custom_objective_is_not_range_checked() -> None:
    plan, objective_id = _with_distress_objective()
    recorded = plan.add(
        c.RecordMeasurement(
            instrument="Minutes on the bus", score=45, administered_on=TODAY,
            objective_id=objective_id,
        )
    )  # fmt: skip
    assert recorded.score == 45  # type: ignore[attr-defined]


def test_a_score_linked_to_an_objective_without_a_measure_is_checked_by_its_instrument_only() -> (
    None
):
    plan, goal, *_ = active_plan()
    bare = plan.add(c.AddObjective(goal_id=goal, statement="Rides the bus to work twice a week"))
    recorded = plan.add(
        c.RecordMeasurement(
            instrument="bus rides", score=2, administered_on=TODAY,
            objective_id=bare.objective_id,  # type: ignore[attr-defined]
        )
    )  # fmt: skip
    assert recorded.score == 2  # type: ignore[attr-defined]
