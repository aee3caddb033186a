"""The input rules every command's text and numbers pass: text without NUL or lone surrogates
and not blank, finite numbers of sensible size, scores a known instrument can give, and a
measure whose target is an improvement on its baseline."""

from __future__ import annotations

import math
import re

import pytest

from plantrail.domain.validation import check_finite, check_measure, check_text, score_problem
from plantrail.domain.values import Measure


def test_text_is_trimmed_and_refused_when_it_cannot_be_stored() -> None:
    assert check_text("  Low mood most days \n") == "Low mood most days"
    for bad, reason in [
        ("Low\x00mood", "must not contain NUL characters"),
        ("Low \ud800 mood", "must be valid Unicode (it contains a lone surrogate)"),
        (" \t\n", "must not be empty"),
    ]:
        with pytest.raises(ValueError, match=re.escape(reason)):
            check_text(bad)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (math.inf, "must be a finite number"),
        (math.nan, "must be a finite number"),
        (1_000_000.5, "is out of range"),
        (-1_000_001, "is out of range"),
    ],
)
def test_a_number_is_finite_and_at_most_a_million_either_way(value: float, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_finite(value)
    assert check_finite(-1_000_000) == -1_000_000


def test_a_score_on_a_known_instrument_is_a_whole_number_in_its_range() -> None:
    assert score_problem("phq9", 12.5, "score") == "score on PHQ-9 must be a whole number"
    assert score_problem("PHQ-9", 28, "score") == "score 28 is outside the PHQ-9 range 0–27"
    assert score_problem("PHQ-9", 27.0, "score") is None
    assert score_problem("activity log", 12.5, "score") is None  # no range known: any number


def test_a_measure_target_must_be_an_improvement_in_its_direction() -> None:
    with pytest.raises(ValueError, match="when lower scores are better"):
        check_measure(Measure(instrument="PHQ-9", baseline=9, target=16))
    with pytest.raises(ValueError, match="when lower scores are worse"):
        check_measure(
            Measure(instrument="activity log", baseline=4, target=4, direction="increase")
        )
    checked = check_measure(Measure(instrument="phq9", baseline=16, target=9))
    assert checked.instrument == "PHQ-9"


def test_a_measure_unit_is_text_like_any_other() -> None:
    with pytest.raises(ValueError, match="must not contain NUL"):
        check_measure(
            Measure(
                instrument="sleep diary",
                unit="hours\x00",
                baseline=4,
                target=7,
                direction="increase",
            )
        )


def test_control_characters_but_newline_and_tab_are_refused() -> None:
    """An ESC sequence in a client's words would act on the terminal that lists it."""
    for bad, code in [
        ("\x1b[2J plantrail verify: OK", "U+001B"),
        ("bell\x07", "U+0007"),
        ("delete\x7f", "U+007F"),
        ("csi\x9b2J", "U+009B"),
    ]:
        with pytest.raises(ValueError, match=re.escape(f"control characters (found {code})")):
            check_text(bad)
    assert check_text("line one\r\n\tline two\rthree") == "line one\n\tline two\nthree"
