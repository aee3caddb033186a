"""Normalisation: what a copy-forward check must treat as the same words, and what it must not."""

from __future__ import annotations

import pytest

from plantrail.projections.normalise import DATE_TOKEN, normalise, normalise_text


@pytest.mark.parametrize(
    ("written", "retyped"),
    [
        ("Client will practise breathing daily.", "client will  practise breathing daily"),
        ("PHQ-9 below 10", "phq 9 below 10"),
        (
            "Client's safety plan: signs, steps; contacts!",
            "clients safety plan signs steps contacts",
        ),
        ("“Quoted” — with dashes…", '"quoted" - with dashes...'),
        ("Line one\nline\ttwo", "line one line two"),
        ("Target date 2026-03-14.", "target date 03/14/2026"),
        ("by 14/03/2026", "by 2026/3/14"),
        ("by 14.03.26", "by 1-2-27"),
        ("by March 14, 2026", "by 14th of June 2026"),
        ("by Mar. 14th 2026", "by Sept. 2026"),
        ("by 14 March", "by 3 June 2026"),
        ("seen May 5, 2026", "seen 2026-05-05T09:30:00Z"),
    ],
)
def test_spacing_case_punctuation_and_dates_do_not_count(written: str, retyped: str) -> None:
    assert normalise_text(written) == normalise_text(retyped)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("4 activities a week", "7 activities a week"),
        ("PHQ-9 below 10", "PHQ-9 below 5"),
        ("reduce from 30-35 drinks to 0-7", "reduce from 30-35 drinks to 0-14"),
        ("weekly", "biweekly"),
        ("client may 2 activities", "client may 3 activities"),
        ("2.5 hours", "25 hours"),
    ],
)
def test_numbers_and_words_still_count(before: str, after: str) -> None:
    assert normalise_text(before) != normalise_text(after)


def test_date_becomes_a_visible_token() -> None:
    assert normalise_text("Review on 2026-03-14") == f"review on {DATE_TOKEN}"


def test_structures_are_normalised_leaf_by_leaf_and_keep_their_shape() -> None:
    data = {
        "statement": "Walk  DAILY.",
        "measure": {"target": 4.0, "unit": "Walks/Week"},
        "list": ["A,", None],
    }
    assert normalise(data) == {
        "statement": "walk daily",
        "measure": {"target": 4.0, "unit": "walks week"},
        "list": ["a", None],
    }
