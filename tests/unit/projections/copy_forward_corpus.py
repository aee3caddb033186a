"""A labelled corpus of consecutive reviews for the copy-forward detector (docs/projections.md,
"Nearly copied forward").

Each case is the plan language at one review and at the next (as
``plantrail.projections.copy_forward.language_items`` gives it), written for the purpose from an
anxiety plan like the demo's, with the label an auditor applying the payers' cloned-documentation
guidance would give it:

- ``copy``: the same plan language, re-typed at most (spacing, case, punctuation, dates);
- ``near``: only a small textual edit of statements, nothing clinically meaningful moved
  ("worded exactly like or similar to previous entries", NGS Medicare): nearly copied forward;
- ``updated``: a genuine update, however small: a target, baseline, threshold, direction or
  measure changed; an item added, removed, met, resolved or discontinued; a frequency,
  timeline or link changed; a safety-plan change; a number, negation or direction in a
  statement; or a statement rewritten in other words (a paraphrase is new wording, not a clone).

``SUMMARIES`` are pairs of consecutive progress summaries labelled ``repeated`` (reordered,
re-punctuated, a few words inserted or a score moved in otherwise the same text) or ``new``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Items = dict[str, Any]

O11 = "objectives[Objective 1.1]"
O12 = "objectives[Objective 1.2]"
O21 = "objectives[Objective 2.1]"
P1 = "problems[Problem 1]"
P2 = "problems[Problem 2]"
G1 = "goals[Goal 1]"
G2 = "goals[Goal 2]"
I1 = "interventions[Intervention 1]"
I2 = "interventions[Intervention 2]"


def _measure(instrument: str, baseline: float, target: float, direction: str) -> dict[str, Any]:
    return {
        "instrument": instrument,
        "baseline": baseline,
        "target": target,
        "direction": direction,
        "unit": None,
    }


BASE: Items = {
    "header": {
        "client": "Morgan Lee",
        "clinician": ["Marcus Webb", "LCSW", "LC-20533"],
        "supervisor": None,
        "review_interval_days": 90,
        "service_type": "individual",
        "session_minutes": 53,
    },
    "diagnoses[F41.1]": {"description": "Generalized anxiety disorder", "primary": True},
    "diagnoses[G47.00]": {"description": "Insomnia, unspecified", "primary": False},
    P1: {
        "statement": "Client reports excessive worry most days, interfering with work; "
        "has missed 6 work days since 5 January 2026.",
        "diagnosis_codes": ["F41.1"],
        "status": "active",
    },
    P2: {
        "statement": "Client has difficulty falling asleep and wakes 3 times a night.",
        "diagnosis_codes": ["G47.00"],
        "status": "active",
    },
    G1: {
        "statement": "Client will manage anxiety so that it no longer interferes with work.",
        "problems": ["Problem 1"],
        "client_words": "I want to stop dreading Mondays.",
        "status": "active",
    },
    G2: {
        "statement": "Client will sleep restfully through most nights.",
        "problems": ["Problem 2"],
        "client_words": None,
        "status": "active",
    },
    O11: {
        "goal": "Goal 1",
        "statement": "Client will reduce GAD-7 score from 15 to 7 or lower.",
        "measure": _measure("GAD-7", 15, 7, "decrease"),
        "status": "open",
    },
    O12: {
        "goal": "Goal 1",
        "statement": "Client will use coping skills.",
        "measure": None,
        "status": "open",
    },
    O21: {
        "goal": "Goal 2",
        "statement": "Client will walk for 30 minutes 5 days a week and keep a sleep diary.",
        "measure": _measure("ISI", 18, 10, "decrease"),
        "status": "open",
    },
    I1: {
        "modality": "CBT",
        "technique": "Cognitive restructuring with weekly thought records",
        "frequency": "weekly",
        "objectives": ["Objective 1.1", "Objective 1.2"],
        "status": "active",
    },
    I2: {
        "modality": "CBT-I",
        "technique": "Sleep hygiene education and stimulus control",
        "frequency": "every two weeks",
        "objectives": ["Objective 2.1"],
        "status": "active",
    },
    "strengths": ["Motivated to return to full-time work", "Supportive partner"],
    "barriers": ["Long commute limits time for exercise"],
    "timeline": {"estimated_sessions": 16, "session_frequency": "weekly"},
    "discharge_criteria": [
        "GAD-7 below 8 for two consecutive months",
        "No missed work days due to anxiety for a month",
    ],
}


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    """``copy``, ``near`` or ``updated``."""
    edit: Callable[[Items], None]
    why: str = ""
    """Why an auditor gives this label, or why the detector misses it."""
    setup: Callable[[Items], None] | None = None
    """Applied to both reviews: a plan that differs from ``BASE`` at both."""

    def pair(self) -> tuple[Items, Items]:
        before = copy.deepcopy(BASE)
        if self.setup is not None:
            self.setup(before)
        after = copy.deepcopy(before)
        self.edit(after)
        return before, after


def _set(key: str, path: str, value: Any) -> Callable[[Items], None]:
    def edit(items: Items) -> None:
        target = items[key]
        *steps, last = path.split(".")
        for step in steps:
            target = target[step]
        target[last] = value

    return edit


def _text(key: str, field: str, value: str) -> Callable[[Items], None]:
    return _set(key, field, value)


def _item(index: int, section: str, value: str) -> Callable[[Items], None]:
    def edit(items: Items) -> None:
        items[section][index] = value

    return edit


def _all(*edits: Callable[[Items], None]) -> Callable[[Items], None]:
    def edit(items: Items) -> None:
        for one in edits:
            one(items)

    return edit


def _add(key: str, value: Any) -> Callable[[Items], None]:
    def edit(items: Items) -> None:
        items[key] = value

    return edit


def _remove(key: str) -> Callable[[Items], None]:
    def edit(items: Items) -> None:
        del items[key]

    return edit


def _append(section: str, value: str) -> Callable[[Items], None]:
    def edit(items: Items) -> None:
        items[section].append(value)

    return edit


_SAFETY = {
    "warning_signs": ["Racing thoughts at night"],
    "coping_strategies": ["Paced breathing"],
    "contacts": ["Dana Lee (support) 555-0101"],
    "means_restriction": ["Partner keeps medications"],
}


def _safety(**changes: Any) -> Callable[[Items], None]:
    def edit(items: Items) -> None:
        items["safety_plan"] = {**copy.deepcopy(_SAFETY), **changes}

    return edit


CASES: list[Case] = [
    # ------------------------------------------------------------------ copies (re-typed)
    Case("nothing changed", "copy", lambda items: None),
    Case(
        "spacing, case and punctuation only",
        "copy",
        _text(O12, "statement", "client will use  coping skills"),
    ),
    Case(
        "a date in a statement moved on",
        "copy",
        _text(P1, "statement", BASE[P1]["statement"].replace("5 January 2026", "2 April 2026")),
    ),
    # ------------------------------------------------------------------ trivial edits
    Case(
        "one word appended (the demo's Review 1)",
        "near",
        _text(O12, "statement", "Client will use coping skills daily."),
    ),
    Case(
        "a word appended after an existing frequency",
        "near",
        _text(
            O21,
            "statement",
            "Client will walk for 30 minutes 5 days a week, daily, and keep a sleep diary.",
        ),
    ),
    Case(
        "synonym swapped in a problem statement",
        "near",
        _text(P1, "statement", BASE[P1]["statement"].replace("worry", "anxiety")),
    ),
    Case(
        "two words of a goal changed",
        "near",
        _text(G1, "statement", "Client will control anxiety so that it no longer disrupts work."),
    ),
    Case(
        "article inserted",
        "near",
        _text(G2, "statement", "Client will sleep restfully through most of the nights."),
    ),
    Case(
        "a typo",
        "near",
        _text(I1, "technique", "Cognitive restructering with weekly thought records"),
    ),
    Case(
        "plural to singular",
        "near",
        _text(O12, "statement", "Client will use a coping skill."),
    ),
    Case(
        "tense changed",
        "near",
        _text(G2, "statement", "Client sleeps restfully through most nights."),
    ),
    Case(
        "client named instead of 'Client'",
        "near",
        _text(O12, "statement", "Morgan will use coping skills."),
    ),
    Case(
        "adverb added",
        "near",
        _text(O12, "statement", "Client will consistently use coping skills."),
    ),
    Case(
        "strength retouched",
        "near",
        _item(1, "strengths", "Very supportive partner"),
    ),
    Case(
        "barrier retouched",
        "near",
        _item(0, "barriers", "Long daily commute limits time for exercise"),
        "a frequency word added where none was: wording, not a frequency change",
    ),
    Case(
        "discharge criterion retouched",
        "near",
        _item(1, "discharge_criteria", "No missed work days because of anxiety for a month"),
    ),
    Case(
        "technique reworded slightly",
        "near",
        _text(I2, "technique", "Sleep hygiene teaching and stimulus control"),
    ),
    Case(
        "client's words retouched",
        "near",
        _text(G1, "client_words", "I want to stop dreading Monday mornings."),
    ),
    Case(
        "long statement, four words changed, still 90% alike",
        "near",
        _text(
            P1,
            "statement",
            "The client reports excessive and persistent worry on most days, interfering "
            "with her work; has missed 6 work days since 5 January 2026.",
        ),
    ),
    Case(
        "three items each with one small edit",
        "near",
        _all(
            _text(O12, "statement", "Client will use coping skills daily."),
            _text(G2, "statement", "Client will sleep well through most nights."),
            _item(0, "strengths", "Motivated to return to full time work soon"),
        ),
    ),
    Case(
        "spelling variant",
        "near",
        _text(I1, "technique", "Cognitive restructuring using weekly thought records"),
    ),
    Case(
        "'Client' became 'The client'",
        "near",
        _text(G2, "statement", "The client will sleep restfully through most nights."),
    ),
    Case(
        "filler words removed",
        "near",
        _text(G1, "statement", "Client will manage anxiety so it no longer interferes with work."),
    ),
    Case(
        "synonym in an objective",
        "near",
        _text(O12, "statement", "Client will practise coping skills."),
    ),
    Case(
        "'with support' added",
        "near",
        _text(O12, "statement", "Client will use coping skills with support."),
    ),
    Case(
        "a date moved and a word added",
        "near",
        _text(
            P2,
            "statement",
            "Client has difficulty falling asleep and wakes 3 times a night, as of 2026-03-01.",
        ),
    ),
    Case(
        "abbreviation spelled out",
        "near",
        _text(I1, "technique", "Cognitive restructuring with weekly automatic thought records"),
    ),
    Case(
        "the measure named in the statement",
        "near",
        _text(O12, "statement", "Client will use coping skills, as tracked on the GAD-7."),
        "known miss: 'GAD-7' carries a number, and an added number is always meaningful",
    ),
    Case(
        "word order tweaked",
        "near",
        _text(G2, "statement", "Client will restfully sleep through most nights."),
    ),
    Case(
        "punctuation and one synonym across two items",
        "near",
        _all(
            _text(P2, "statement", "Client has trouble falling asleep; wakes 3 times a night"),
            _item(1, "strengths", "Supportive spouse"),
        ),
    ),
    # ------------------------------------------------------------------ genuine updates
    Case("target changed", "updated", _set(O11, "measure.target", 5)),
    Case("baseline corrected", "updated", _set(O11, "measure.baseline", 16)),
    Case(
        "maintain threshold changed",
        "updated",
        _all(
            _set(O11, "measure.direction", "maintain"),
            _set(O11, "measure.threshold", 4),
        ),
    ),
    Case("direction changed", "updated", _set(O21, "measure.direction", "increase")),
    Case("instrument changed", "updated", _set(O21, "measure.instrument", "PSQI")),
    Case(
        "objective added",
        "updated",
        _add(
            "objectives[Objective 1.3]",
            {
                "goal": "Goal 1",
                "statement": "Client will attend work 5 days a week.",
                "measure": None,
                "status": "open",
            },
        ),
    ),
    Case("objective met", "updated", _set(O12, "status", "met")),
    Case("objective discontinued", "updated", _set(O21, "status", "no_longer_relevant")),
    Case("objective partially met", "updated", _set(O11, "status", "partially_met")),
    Case(
        "goal added",
        "updated",
        _add(
            "goals[Goal 3]",
            {
                "statement": "Client will rebuild social contacts.",
                "problems": ["Problem 1"],
                "client_words": None,
                "status": "active",
            },
        ),
    ),
    Case("goal achieved", "updated", _set(G2, "status", "achieved")),
    Case(
        "problem added",
        "updated",
        _add(
            "problems[Problem 3]",
            {
                "statement": "Client drinks to fall asleep.",
                "diagnosis_codes": [],
                "status": "active",
            },
        ),
    ),
    Case("problem resolved", "updated", _set(P2, "status", "resolved")),
    Case(
        "diagnosis added",
        "updated",
        _add("diagnoses[F32.1]", {"description": "Major depressive disorder", "primary": False}),
    ),
    Case("diagnosis removed", "updated", _remove("diagnoses[G47.00]")),
    Case(
        "intervention added",
        "updated",
        _add(
            "interventions[Intervention 3]",
            {
                "modality": "ACT",
                "technique": "Values clarification",
                "frequency": "weekly",
                "objectives": ["Objective 1.2"],
                "status": "active",
            },
        ),
    ),
    Case("intervention discontinued", "updated", _set(I2, "status", "discontinued")),
    Case("intervention frequency changed", "updated", _set(I1, "frequency", "twice weekly")),
    Case("intervention linked to another objective", "updated", _set(I2, "objectives", [])),
    Case("goal linked to another problem", "updated", _set(G2, "problems", ["Problem 1"])),
    Case("timeline sessions changed", "updated", _set("timeline", "estimated_sessions", 20)),
    Case("session frequency changed", "updated", _set("timeline", "session_frequency", "biweekly")),
    Case("safety plan added", "updated", _safety()),
    Case(
        "safety plan contact added",
        "updated",
        lambda items: items["safety_plan"]["contacts"].append("988 (crisis_line)"),
        setup=_safety(),
    ),
    Case(
        "one word of a safety-plan coping strategy changed",
        "updated",
        lambda items: items["safety_plan"]["coping_strategies"].__setitem__(0, "Slow breathing"),
        "every safety-plan change is a genuine update, however small",
        setup=_safety(),
    ),
    Case("client's words cleared", "updated", _set(G1, "client_words", None)),
    Case("strength added", "updated", _append("strengths", "Enjoys running")),
    Case("discharge criterion added", "updated", _append("discharge_criteria", "ISI below 10")),
    Case("session length changed", "updated", _set("header", "session_minutes", 38)),
    Case("client's words recorded", "updated", _set(G2, "client_words", "I want to wake rested.")),
    # ------------------------------------------------------------------ hard cases
    Case(
        "a single number changed in a statement",
        "updated",
        _text(O21, "statement", BASE[O21]["statement"].replace("5 days", "3 days")),
    ),
    Case(
        "a count added to a technique",
        "updated",
        _text(I2, "technique", "Sleep hygiene education and stimulus control, two sessions"),
        "a new amount, written as a word",
    ),
    Case(
        "a duration removed from a statement",
        "updated",
        _text(O21, "statement", "Client will walk 5 days a week and keep a sleep diary."),
    ),
    Case(
        "negation dropped",
        "updated",
        _text(G1, "statement", "Client will manage anxiety so that it interferes with work."),
    ),
    Case(
        "direction word flipped",
        "updated",
        _text(O11, "statement", "Client will increase GAD-7 score from 15 to 7 or lower."),
    ),
    Case(
        "frequency word replaced in a statement",
        "updated",
        _text(I1, "technique", "Cognitive restructuring with daily thought records"),
    ),
    Case(
        "frequency word removed from a statement",
        "updated",
        _text(I1, "technique", "Cognitive restructuring with thought records"),
    ),
    Case(
        "short statement, subject swapped",
        "updated",
        _text(O12, "statement", "Client will limit alcohol use."),
    ),
    Case(
        "small edit plus a target change",
        "updated",
        _all(
            _text(O12, "statement", "Client will use coping skills daily."),
            _set(O11, "measure.target", 5),
        ),
    ),
    # ------------------------------------------------------------------ paraphrases
    Case(
        "objective paraphrased",
        "updated",
        _text(
            O12,
            "statement",
            "When anxious, Morgan applies the breathing and grounding "
            "techniques learned in session.",
        ),
    ),
    Case(
        "goal paraphrased",
        "updated",
        _text(G1, "statement", "Anxiety will be kept at a level where Morgan works full days."),
    ),
    Case(
        "problem paraphrased",
        "updated",
        _text(
            P2,
            "statement",
            "Sleep onset is delayed and the client wakes repeatedly, three times most nights.",
        ),
    ),
    Case(
        "technique paraphrased",
        "updated",
        _text(I2, "technique", "Teaching a regular wind-down routine and leaving bed when awake"),
    ),
]


@dataclass(frozen=True)
class SummaryCase:
    name: str
    label: str
    """``repeated`` (nearly or exactly) or ``new``."""
    previous: str
    current: str
    why: str = ""


_S = (
    "Morgan attended four sessions. Worry about work is lower and she used thought records "
    "twice a week. Sleep is still broken by early waking. GAD-7 fell from 15 to 12."
)

SUMMARIES: list[SummaryCase] = [
    SummaryCase("the same summary", "repeated", _S, _S),
    SummaryCase(
        "sentences reordered",
        "repeated",
        _S,
        "GAD-7 fell from 15 to 12. Sleep is still broken by early waking. Morgan attended four "
        "sessions. Worry about work is lower and she used thought records twice a week.",
    ),
    SummaryCase(
        "reordered and re-punctuated",
        "repeated",
        _S,
        "Sleep is still broken by early waking; Morgan attended four sessions! GAD-7 fell from "
        "15 to 12 - worry about work is lower, and she used thought records twice a week.",
    ),
    SummaryCase(
        "a few words inserted",
        "repeated",
        _S,
        "Morgan attended all four sessions. Worry about work is somewhat lower and she used "
        "thought records twice a week. Sleep is still broken by early waking. GAD-7 fell from "
        "15 to 12.",
    ),
    SummaryCase(
        "a score moved in otherwise the same text",
        "repeated",
        _S,
        _S.replace("15 to 12", "15 to 11"),
        "the summary is the same text with one figure edited: worded like the previous entry",
    ),
    SummaryCase(
        "a short sentence appended",
        "repeated",
        _S,
        _S + " Continue plan.",
    ),
    SummaryCase(
        "one sentence dropped",
        "repeated",
        _S,
        "Morgan attended four sessions. Worry about work is lower and she used thought records "
        "twice a week. GAD-7 fell from 15 to 12.",
    ),
    SummaryCase(
        "reordered with a word swapped",
        "repeated",
        _S,
        "Sleep is still disrupted by early waking. GAD-7 fell from 15 to 12. Morgan attended "
        "four sessions. Worry about work is lower and she used thought records twice a week.",
    ),
    SummaryCase(
        "dates moved on",
        "repeated",
        "Since 2026-01-10 Morgan attended four sessions. " + _S,
        "Since 2026-04-10 Morgan attended four sessions. " + _S,
    ),
    SummaryCase(
        "short summary re-typed",
        "repeated",
        "Some progress. Continue plan.",
        "Continue plan; some progress.",
    ),
    SummaryCase(
        "a new summary about the same client",
        "new",
        _S,
        "Morgan returned to full-time work this month. She reports worry mainly on Sunday "
        "evenings and now uses paced breathing before meetings. Early waking persists; we "
        "started stimulus control. GAD-7 is 9.",
    ),
    SummaryCase(
        "a new summary that keeps one sentence",
        "new",
        _S,
        "Morgan attended four sessions. She had a panic attack at a team meeting and left "
        "early twice. We rehearsed exposure to speaking up. GAD-7 rose to 16 and the plan now "
        "adds weekly exposure practice.",
        "one copied sentence of five is copied text, not a repeated summary",
    ),
    SummaryCase(
        "a new summary in the same vocabulary",
        "new",
        _S,
        "Worry about sleep, not work, is now the focus. Thought records are used less; early "
        "waking improved after four sessions of stimulus control. GAD-7 is 12 again.",
    ),
    SummaryCase(
        "a different short summary",
        "new",
        "Some progress. Continue plan.",
        "No progress; missed two sessions. Referred for a medication review.",
    ),
    SummaryCase(
        "a longer new summary",
        "new",
        _S,
        _S.split(".")[0]
        + ". Her partner joined one session to plan shared evening routines. She is applying "
        "for a role with less travel and has fewer missed days. Sleep diary shows six hours "
        "on average, up from four.",
    ),
]
