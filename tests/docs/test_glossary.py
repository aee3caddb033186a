"""docs/glossary.md stays ordered, readable and tied to the code.

Entries must be in alphabetical order (word by word, ignoring case and punctuation). Every event
is named in an entry about its subject, so a new kind of event (``ConsentRecorded``) cannot ship
without its clinical term (``Consent``) being explained. Instrument ranges and the closed
vocabularies quoted in the glossary must match the code.
"""

from __future__ import annotations

import re
import typing

import pytest

from plantrail.domain import instruments, values
from plantrail.domain.events import EVENT_CLASSES, PlanEvent
from tests.docs.markdown import read, sections, words

GLOSSARY = read("glossary.md")
ENTRIES = sections(GLOSSARY, 2)

VERBS = (
    "StatusMarked",
    "Opened",
    "Added",
    "Removed",
    "Revised",
    "Resolved",
    "Discontinued",
    "Recorded",
    "Voided",
    "Noted",
    "Set",
    "Started",
    "Completed",
    "Requested",
    "Captured",
    "Revoked",
    "Discharged",
    "Extended",
    "Accepted",
    "Denied",
    "Filed",
    "Renewed",
)
"""The past-tense verbs event names end with; what precedes the verb is the event's subject."""


def sort_key(term: str) -> list[str]:
    """Word-by-word dictionary order: case and punctuation ignored, hyphens separate words."""
    return re.findall(r"[0-9a-z]+", term.casefold())


def subject(event_name: str) -> list[str]:
    """``ObjectiveStatusMarked`` → ``["objective"]``; ``DischargeCriteriaSet`` →
    ``["discharge", "criteria"]``."""
    for verb in sorted(VERBS, key=len, reverse=True):
        if event_name.endswith(verb) and event_name != verb:
            noun = event_name.removesuffix(verb)
            return [w.lower() for w in re.findall(r"[A-Z][a-z0-9]*", noun)]
    raise AssertionError(f"add the past-tense verb of {event_name} to VERBS in this test")


def contains_run(haystack: list[str], needle: list[str]) -> bool:
    return any(
        haystack[i : i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1)
    )


def entry(term: str) -> str:
    for heading, body in ENTRIES:
        if heading == term:
            return body
    raise AssertionError(f"the glossary has no entry {term!r}")


# --------------------------------------------------------------------------- form
def test_the_glossary_has_entries() -> None:
    assert len(ENTRIES) >= 50


def test_entries_are_in_alphabetical_order() -> None:
    headings = [heading for heading, _ in ENTRIES]
    expected = sorted(headings, key=sort_key)
    for position, (found, wanted) in enumerate(zip(headings, expected, strict=True)):
        assert found == wanted, f"entry {position + 1} is {found!r}; in order it is {wanted!r}"


def test_no_term_is_defined_twice() -> None:
    keys = [tuple(sort_key(heading)) for heading, _ in ENTRIES]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(("term", "body"), ENTRIES, ids=[heading for heading, _ in ENTRIES])
def test_each_entry_is_one_short_paragraph(term: str, body: str) -> None:
    text = body.strip()
    assert text, f"{term}: the entry is empty"
    assert "\n\n" not in text, f"{term}: keep the entry to one paragraph"
    assert len(text.split()) <= 160, f"{term}: keep the entry short"


# ----------------------------------------------------------------------- events
def test_subjects_are_derived_from_event_names() -> None:
    assert subject("ObjectiveStatusMarked") == ["objective"]
    assert subject("DischargeCriteriaSet") == ["discharge", "criteria"]
    assert subject("PlanOpened") == ["plan"]


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_each_event_is_explained_under_its_subject(cls: type[PlanEvent]) -> None:
    noun = subject(cls.__name__)
    about = [(h, body) for h, body in ENTRIES if contains_run(sort_key(h), noun)]
    assert about, f"{cls.__name__}: the glossary needs an entry for {' '.join(noun)!r}"
    naming = [h for h, body in about if f"`{cls.__name__}`" in body]
    assert naming, (
        f"{cls.__name__}: name the event in one of the entries about "
        f"{' '.join(noun)!r}: {[h for h, _ in about]}"
    )


# ------------------------------------------------------------------- code values
@pytest.mark.parametrize("instrument", sorted(instruments.INSTRUMENT_RANGES))
def test_instrument_ranges_match_the_code(instrument: str) -> None:
    low, high = instruments.INSTRUMENT_RANGES[instrument]
    assert f"{instrument} ({low}–{high})" in words(entry("Instrument")), (
        f"the Instrument entry should give {instrument} ({low}–{high})"
    )


@pytest.mark.parametrize(
    ("term", "vocabulary"),
    [
        ("Entry kind", values.EntryKind),
        ("Objective (SMART)", values.ObjectiveStatus),
        ("Goal", values.GoalStatus),
        ("Review", values.ReviewReason),
        ("Signature meaning and role", values.SignatureMeaning),
        ("Signature meaning and role", values.SignerRole),
        ("Plan status", values.PlanStatus),
    ],
)
def test_entries_quote_every_value_of_their_vocabulary(term: str, vocabulary: object) -> None:
    body = entry(term)
    missing = [v for v in typing.get_args(vocabulary) if f"`{v}`" not in body]
    assert not missing, f"{term}: the entry does not name {missing}"
