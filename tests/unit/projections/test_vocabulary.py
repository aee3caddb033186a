"""The one vocabulary: identifiers an auditor reads as words."""

from __future__ import annotations

from plantrail.projections.vocabulary import field_path, word, yes_no


def test_statuses_read_as_words() -> None:
    assert word("partially_met") == "partially met"
    assert word("in_progress") == "in progress"
    assert word("client_request") == "at the client's request"
    assert word(None) == ""
    assert word(True) == "yes"
    assert yes_no(False) == "no"


def test_diff_paths_read_as_item_and_field() -> None:
    assert field_path("objectives[Objective 2.1].target_date") == "Objective 2.1: target date"
    assert field_path("objectives[Objective 1.1].measure.baseline") == (
        "Objective 1.1: measure: baseline"
    )
    assert field_path("discharge_criteria") == "discharge criteria"
    assert field_path("plan.plan_end_date") == "plan: plan end date"
