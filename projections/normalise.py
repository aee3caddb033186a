"""Normalising plan language before deciding whether a review copied the plan forward.

Auditors call a review copied forward when its plan reads the same as before; re-typing a
sentence with other spacing, capitals or commas, or only moving its dates on, is not a revision.
So text is compared after: every date in a common format (``2026-03-14``, ``03/14/2026``,
``14.03.26``, ``March 14, 2026``, ``14th March 2026``, ``Mar 2026``) is replaced by one token,
letters are case-folded, an apostrophe inside a word is dropped, other punctuation becomes a
space and runs of whitespace collapse to one space. Numbers that are not dates stay:
"4 activities a week" and "7 activities a week" differ.

Normalised strings are cached, because consecutive plan states share almost all of their text
and the copy-forward verdict must stay within about 2 ms per review.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any

__all__ = ["DATE_TOKEN", "normalise", "normalise_text"]

DATE_TOKEN = "<date>"
_SENTINEL = "\ue000"
"""A private-use character, neither punctuation nor space, standing in for a date until the
punctuation is gone (the visible token's angle brackets would be stripped otherwise)."""

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ANY_MONTH = rf"(?:{_MONTH}|may)"
_FULL_MONTH = (
    r"(?:january|february|march|april|june|july|august|september|october|november|december)"
)
_DAY = r"(?:[0-2]?\d|3[01])"
_ORD = r"(?:st|nd|rd|th)"
# The patterns run on case-folded text. Each starts with a character class, so the regex engine
# skips ahead to candidate characters instead of trying every alternative at every position.
_NUMERIC_DATES = re.compile(
    # 2026-03-14, 2026/3/14, 2026.03.14 (with an optional time), 14/03/2026, 3-14-26, 14.03.26
    r"\d(?<!\w\d)(?:\d{3}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
    r"|\d?[-/.]\d{1,2}[-/.](?:\d{4}|\d{2}))(?![\w])"
)
_NAMED_DATES = re.compile(
    "|".join(
        [
            # march 14, 2026 · mar. 14th 2026 · march 14 ("may 5" needs its year: may is a verb)
            rf"\b{_MONTH}\s+{_DAY}{_ORD}?\b(?:,?\s+\d{{4}}\b)?",
            rf"\bmay\s+{_DAY}{_ORD}?,?\s+\d{{4}}\b",
            # 14 march 2026 · 14th of march, 2026 · 14th march · 14 march (not "2 dec", "3 may")
            rf"\b{_DAY}{_ORD}?\s+(?:of\s+)?{_ANY_MONTH}(?:,?\s+\d{{4}}\b)",
            rf"\b{_DAY}{_ORD}\s+(?:of\s+)?{_ANY_MONTH}",
            rf"\b{_DAY}\s+(?:of\s+)?{_FULL_MONTH}\b",
            # march 2026 · sept. 2026
            rf"\b{_ANY_MONTH}\s+\d{{4}}\b",
        ]
    )
)
_MONTH_WORDS = frozenset(
    word + end
    for word in (
        *("jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun"),
        *("june", "jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october"),
        *("nov", "november", "dec", "december"),
    )
    for end in ("", ".", ",")
)
"""Whole words that name a month: the named-date pattern runs only when one of them occurs."""
_DIGIT = re.compile(r"\d")
_APOSTROPHE = re.compile(r"(?<=\w)['\u2019](?=\w)")


@cache
def _punctuation() -> re.Pattern[str]:
    """Every Unicode punctuation character (categories P*) plus ASCII's punctuation symbols.

    Built on first use rather than at import, so the command line starts fast; the Basic
    Multilingual Plane holds every punctuation mark clinical text uses."""
    chars = set(string.punctuation)
    chars.update(
        ch for code in range(0x10000) if unicodedata.category(ch := chr(code)).startswith("P")
    )
    chars.discard(_SENTINEL)
    return re.compile("[" + re.escape("".join(sorted(chars))) + "]+")


@lru_cache(maxsize=16_384)
def normalise_text(text: str) -> str:
    """``text`` with dates tokenised, case folded, punctuation removed, whitespace collapsed."""
    text = text.casefold()
    if _DIGIT.search(text):  # every date format above has a digit; much plan text has none
        text = _NUMERIC_DATES.sub(_SENTINEL, text)
        if not _MONTH_WORDS.isdisjoint(text.split()):
            text = _NAMED_DATES.sub(_SENTINEL, text)
    if "'" in text or "\u2019" in text:
        text = _APOSTROPHE.sub("", text)  # "client's" reads as "clients", not "client s"
    text = " ".join(_punctuation().sub(" ", text).split())
    return text.replace(_SENTINEL, DATE_TOKEN) if _SENTINEL in text else text


def normalise(value: Any) -> Any:
    """``value`` (JSON-like data) with every string normalised; structure and numbers kept."""
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, Mapping):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    return value
