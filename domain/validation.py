"""Input rules for text and numbers, applied to commands (never to stored events).

A NUL byte, a lone surrogate or a 50 kB paste is refused the same way whatever the entry point
(CLI, HTTP, import) and whatever the store: PostgreSQL cannot store NUL in text at all, and
SQLite would store it silently. Other control characters (ESC, the C1 range, DEL) are refused
too: stored text is shown on staff terminals by the command line, where an escape sequence in a
client's words could clear the screen or print a forged result (docs/domain.md, rules).
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, Field

from plantrail.domain.instruments import INSTRUMENT_RANGES, canonical_instrument
from plantrail.domain.values import Measure

MAX_TEXT = 10_000
"""Longest free text accepted in any field (a plan statement, not a pasted document)."""

MAX_NAME = 200


_CONTROL = re.compile("[\x01-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters other than NUL (refused with its own message), tab and newline. A
carriage return never reaches it: line ends are normalised to newlines first."""


def check_text(value: str) -> str:
    """Refuse NUL, other control characters, lone surrogates and blank text; return the text
    with its line ends as newlines (a browser's form sends CRLF), trimmed."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if found := _CONTROL.search(value):
        raise ValueError(
            f"must not contain control characters (found U+{ord(found.group()):04X}); "
            "only newline and tab are allowed"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (it contains a lone surrogate)") from None
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be empty")
    return stripped


ClinicalText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(check_text)]
"""Free clinical text: trimmed, non-empty, at most 10,000 characters, no control characters but
newline and tab, valid Unicode."""

ShortText = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(check_text)]
"""Names, credentials, codes, instrument names: at most 200 characters."""


def check_finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if abs(value) > 1_000_000:
        raise ValueError("is out of range (more than a million)")
    return value


Score = Annotated[float, AfterValidator(check_finite)]


def score_problem(
    instrument: str, score: float, field: str, scale: tuple[float, float] | None = None
) -> str | None:
    """Why ``score`` is impossible on ``instrument`` (a catalogue instrument's range, or the
    ``scale`` a custom measure states), or None when it is plausible."""
    name = canonical_instrument(instrument)
    limits = INSTRUMENT_RANGES.get(name)
    if limits is None:
        if scale is not None and not scale[0] <= score <= scale[1]:
            return f"{field} {score:g} is outside the stated range {scale[0]:g}–{scale[1]:g}"
        return None
    low, high = limits
    if score != int(score):
        return f"{field} on {name} must be a whole number"
    if not low <= score <= high:
        return f"{field} {score:g} is outside the {name} range {low}–{high}"
    return None


def measure_scale(measure: Measure) -> tuple[float, float] | None:
    """The range a custom measure states, when it states one."""
    if measure.scale_min is None or measure.scale_max is None:
        return None
    return measure.scale_min, measure.scale_max


def _check_scale(measure: Measure) -> None:
    stated = (measure.scale_min, measure.scale_max)
    if stated == (None, None):
        return
    name = canonical_instrument(measure.instrument)
    if name in INSTRUMENT_RANGES:
        low, high = INSTRUMENT_RANGES[name]
        raise ValueError(f"scale_min and scale_max are for custom measures; {name} is {low}–{high}")
    if None in stated:
        raise ValueError("scale_max and scale_min go together: state both ends of the range")
    for value in stated:
        check_finite(value)  # type: ignore[arg-type]
    if measure.scale_min >= measure.scale_max:  # type: ignore[operator]
        raise ValueError("scale_max must be greater than scale_min")


def check_measure(measure: Measure) -> Measure:
    """A measure's instrument text, range-checked baseline and target, and a target that is
    an improvement in the stated direction."""
    check_text(measure.instrument)
    if measure.unit is not None:
        check_text(measure.unit)
    if measure.direction == "maintain":
        if measure.threshold is None or measure.keep is None:
            raise ValueError(
                "a maintain measure needs a threshold and keep (at_most or at_least): the score "
                "it must stay at or on the right side of"
            )
        if measure.target is not None:
            raise ValueError("a maintain measure has a threshold instead of a target; drop target")
    elif measure.threshold is not None or measure.keep is not None:
        raise ValueError("threshold and keep are only for direction maintain")
    _check_scale(measure)
    scale = measure_scale(measure)
    for field, value in (
        ("baseline", measure.baseline),
        ("target", measure.target),
        ("threshold", measure.threshold),
    ):
        if value is None:
            continue
        check_finite(value)
        if problem := score_problem(measure.instrument, value, field, scale):
            raise ValueError(problem)
    if measure.baseline is not None and measure.target is not None:  # never for maintain
        improves = (
            measure.target < measure.baseline
            if measure.direction == "decrease"
            else measure.target > measure.baseline
        )
        if not improves:
            raise ValueError(
                f"target {measure.target:g} is not an improvement on baseline "
                f"{measure.baseline:g} when lower scores are "
                f"{'better' if measure.direction == 'decrease' else 'worse'}"
            )
    return measure.model_copy(update={"instrument": canonical_instrument(measure.instrument)})


ValidMeasure = Annotated[Measure, AfterValidator(check_measure)]
