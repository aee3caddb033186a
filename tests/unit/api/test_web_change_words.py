"""The reviews page words what a review changed in the plan: the vocabulary's words, never
field paths, identifiers or yes/no flags."""

from __future__ import annotations

from plantrail.api.web.routes_pages import _change_words


def test_a_status_change_reads_in_words() -> None:
    change = {
        "path": "objectives[Objective 1.1].status",
        "kind": "changed",
        "before": "partially_met",
        "after": "met",
    }
    assert _change_words(change) == "Objective 1.1: status: partially met → met"


def test_a_field_path_reads_as_item_and_field() -> None:
    change = {
        "path": "objectives[Objective 2.1].target_date",
        "kind": "changed",
        "before": "2026-09-01",
        "after": "2026-10-01",
    }
    assert _change_words(change) == "Objective 2.1: target date: 2026-09-01 → 2026-10-01"


def test_a_yes_no_field_reads_as_a_sentence() -> None:
    voided = {"path": "measurements[Score 3].voided", "kind": "changed", "before": False}
    assert _change_words({**voided, "after": True}) == "Score 3: voided"
    assert _change_words({**voided, "before": True, "after": False}) == "Score 3: no longer voided"
