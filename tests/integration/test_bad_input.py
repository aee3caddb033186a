"""Malformed input is refused by the parser, the same way on every store, before anything is
stored; well-formed Unicode goes in and comes back out exactly."""

from __future__ import annotations

import json
import unicodedata
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from plantrail.domain import commands as c
from plantrail.domain.errors import InvalidInput
from plantrail.domain.parsing import parse_command, parse_meta, parse_request
from plantrail.domain.service import PlanService
from plantrail.domain.validation import MAX_TEXT
from plantrail.projections.assembly import recorder_of
from plantrail.projections.store.schema import commands, events
from tests.support.plans import CLINICIAN, build_signed_plan

TODAY = "2026-03-02"


def stored(service: PlanService) -> tuple[int, int]:
    """(events, command records) in the whole store."""
    with recorder_of(service).engine.connect() as conn:
        count = lambda table: int(  # noqa: E731
            conn.execute(select(func.count()).select_from(table)).scalar_one()
        )
        return count(events), count(commands)


def measurement(**fields: Any) -> dict[str, Any]:
    return {"instrument": "PHQ-9", "score": 12, "administered_on": TODAY, **fields}


def open_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client": {"id": "MRN-3003", "name": "Jo Park", "date_of_birth": "1979-11-02"},
        "clinician": {"user_id": "dana", "name": "Dana Reyes", "credentials": "LCSW"},
        "plan_end_date": "2027-01-15",
        "session_minutes": 53,
    }
    body.update(fields)
    return body


NUL = "Low mood\x00 most days"
SURROGATE = "Low mood \ud800 most days"
TOO_LONG = "x" * (MAX_TEXT + 1)

# (command, body, field at fault, words of the reason)
BAD_COMMANDS: dict[str, tuple[type[c.Command], dict[str, Any], str, str]] = {
    "NUL in a statement": (c.AddProblem, {"statement": NUL}, "statement", "NUL"),
    "NUL in a name": (c.AddDiagnosis, {"code": "F32.1", "description": NUL}, "description", "NUL"),
    "NUL in a list item": (
        c.SetDischargeCriteria,
        {"criteria": ["PHQ-9 below 5", NUL]},
        "criteria.1",
        "NUL",
    ),
    "NUL in a nested record": (
        c.AddObjective,
        {"goal_id": "g1", "statement": "PHQ-9 below 10", "measure": {"instrument": "PHQ\x009"}},
        "measure",
        "NUL",
    ),
    "lone surrogate in a statement": (
        c.NoteStrength,
        {"text": SURROGATE},
        "text",
        "valid Unicode",
    ),
    "lone surrogate in an assessment note": (
        c.CompleteReview,
        {
            "review_id": "r1",
            "progress_summary": "Better",
            "assessments": [{"objective_id": "o1", "status": "met", "note": "\udfff"}],
        },
        "assessments.0.note",
        "valid Unicode",
    ),
    "text over 10,000 characters": (
        c.NoteBarrier,
        {"text": TOO_LONG},
        "text",
        "at most 10000 characters",
    ),
    "name over 200 characters": (
        c.AddIntervention,
        {"modality": "C" * 201, "technique": "Exposure", "frequency": "weekly"},
        "modality",
        "at most 200 characters",
    ),
    "blank text": (c.NoteStrength, {"text": " \t\n "}, "text", "must not be empty"),
    "infinite score": (c.RecordMeasurement, measurement(score=float("inf")), "score", "finite"),
    "infinite score as text": (
        c.RecordMeasurement,
        measurement(score="Infinity"),
        "score",
        "finite",
    ),
    "NaN score": (c.RecordMeasurement, measurement(score=float("nan")), "score", "finite"),
    "huge score": (c.RecordMeasurement, measurement(score=1e300), "score", "out of range"),
    "enormous integer score": (c.RecordMeasurement, measurement(score=10**400), "score", "number"),
    "infinite baseline": (
        c.AddObjective,
        {
            "goal_id": "g1",
            "statement": "Fewer panic attacks",
            "measure": {"instrument": "attacks a week", "baseline": float("inf")},
        },
        "measure",
        "finite",
    ),
    "negative session minutes": (
        c.OpenPlan,
        open_body(session_minutes=-50),
        "session_minutes",
        "at least 10",
    ),
    "huge session minutes": (
        c.OpenPlan,
        open_body(session_minutes=10**30),
        "session_minutes",
        "at most 480",
    ),
    "fractional session minutes": (
        c.OpenPlan,
        open_body(session_minutes=52.5),
        "session_minutes",
        "whole number",
    ),
    "negative sessions": (
        c.SetTimeline,
        {"estimated_sessions": -3, "session_frequency": "weekly"},
        "estimated_sessions",
        "at least 1",
    ),
    "version zero to explain": (
        c.RecordRationale,
        {"text": "Why", "explains_version": 0},
        "explains_version",
        "at least 1",
    ),
    "30 February": (
        c.RecordMeasurement,
        measurement(administered_on="2026-02-30"),
        "administered_on",
        "not a valid date (use YYYY-MM-DD)",
    ),
    "yesterday": (
        c.RecordMeasurement,
        measurement(administered_on="yesterday"),
        "administered_on",
        "not a valid date (use YYYY-MM-DD)",
    ),
    "US date order": (
        c.AddObjective,
        {"goal_id": "g1", "statement": "s", "target_date": "06/30/2026"},
        "target_date",
        "not a valid date",
    ),
    "a date with a time": (
        c.AddObjective,
        {"goal_id": "g1", "statement": "s", "target_date": "2026-06-30T10:00:00"},
        "target_date",
        "without a time",
    ),
    "a nested malformed date": (
        c.OpenPlan,
        open_body(client={"id": "MRN-3003", "name": "Jo Park", "date_of_birth": "1979-13-02"}),
        "client.date_of_birth",
        "not a valid date",
    ),
    "unknown field": (c.NoteStrength, {"text": "Curious", "mood": "good"}, "mood", "unknown field"),
    "unknown nested field": (
        c.OpenPlan,
        open_body(
            client={"id": "MRN-3003", "name": "Jo Park", "date_of_birth": "1979-11-02", "ssn": "x"}
        ),
        "client.ssn",
        "unknown field",
    ),
    "misspelt field": (c.AddProblem, {"statment": "Low mood"}, "statement", "is required"),
    "not an object": (c.NoteStrength, ["Curious"], "input", "must be an object"),
    "a number where text belongs": (c.NoteStrength, {"text": 42}, "text", "must be text"),
    "a malformed ICD-10 code": (
        c.AddDiagnosis,
        {"code": "depression", "description": "Low"},
        "code",
        "ICD-10-CM",
    ),
    "a malformed id": (
        c.VoidMeasurement,
        {"measurement_id": "../../etc/passwd"},
        "measurement_id",
        "not a valid id",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_COMMANDS))
def test_bad_command_input_is_refused_and_nothing_is_stored(
    service: PlanService, case: str
) -> None:
    model, body, field, reason = BAD_COMMANDS[case]
    ids = build_signed_plan(service)
    before = (service.load(ids["plan_id"]).model_dump(), stored(service))
    with pytest.raises(InvalidInput) as info:
        parse_command(model, body)
    error = info.value
    assert error.errors[0].field == field
    assert reason in error.errors[0].message
    assert error.message.startswith(f"{field}: ")
    assert "\n" not in error.message
    assert (service.load(ids["plan_id"]).model_dump(), stored(service)) == before


BAD_META: dict[str, tuple[dict[str, Any], str, str]] = {
    "NUL in a rationale": ({"rationale": "Client asked\x00"}, "rationale", "NUL"),
    "lone surrogate in a rationale": ({"rationale": "\ud83d why"}, "rationale", "valid Unicode"),
    "rationale over 10,000 characters": ({"rationale": TOO_LONG}, "rationale", "at most 10000"),
    "30 February": ({"effective_date": "2026-02-30"}, "effective_date", "not a valid date"),
    "yesterday": ({"effective_date": "yesterday"}, "effective_date", "not a valid date"),
    "negative version": ({"expected_version": -1}, "expected_version", "at least 1"),
    "huge version": ({"expected_version": 2**63}, "expected_version", "at most"),
    "fractional version": ({"expected_version": 3.5}, "expected_version", "whole number"),
    "infinite version": ({"expected_version": float("inf")}, "expected_version", "finite"),
    "unknown entry kind": ({"entry_kind": "late"}, "entry_kind", "must be 'original'"),
    "unknown field": ({"rationale": "Why", "reason": "x"}, "reason", "unknown field"),
    "an actor from the caller": (
        {"actor": {"user_id": "admin", "name": "Mallory", "role": "admin"}},
        "actor",
        "set by the server",
    ),
    "NUL in a command id": ({"command_id": "abc\x00"}, "command_id", "NUL"),
}


@pytest.mark.parametrize("case", sorted(BAD_META))
def test_bad_envelope_input_is_refused_and_nothing_is_stored(
    service: PlanService, case: str
) -> None:
    data, field, reason = BAD_META[case]
    ids = build_signed_plan(service)
    before = (service.load(ids["plan_id"]).model_dump(), stored(service))
    with pytest.raises(InvalidInput) as info:
        parse_meta(data, actor=CLINICIAN)
    assert info.value.errors[0].field == field
    assert reason in info.value.errors[0].message
    assert (service.load(ids["plan_id"]).model_dump(), stored(service)) == before


def test_every_problem_of_a_request_is_reported_at_once(service: PlanService) -> None:
    ids = build_signed_plan(service)
    before = stored(service)
    body = {
        "instrument": "PHQ-9",
        "score": float("nan"),
        "administered_on": "2026-02-30",
        "rationale": "Rescored\x00",
        "effective_date": "yesterday",
        "colour": "blue",
    }
    with pytest.raises(InvalidInput) as info:
        parse_request(c.RecordMeasurement, body, actor=CLINICIAN, command_id="req-1")
    fields = [p.field for p in info.value.errors]
    assert sorted(fields) == sorted(
        ["score", "administered_on", "colour", "rationale", "effective_date"]
    )
    assert info.value.message.startswith("score: must be a finite number; ")
    assert info.value.message.endswith("(and 3 more problems)")
    assert stored(service) == before
    assert service.store.find_command("req-1") is None
    # the same key with the body put right goes through
    command, envelope = parse_request(
        c.RecordMeasurement,
        {"instrument": "PHQ-9", "score": 11, "administered_on": TODAY, "effective_date": TODAY},
        actor=CLINICIAN,
        command_id="req-1",
    )
    result = service.execute(ids["plan_id"], command, envelope)
    assert service.load(ids["plan_id"]).measurements[result.item_id or ""].score == 11


def test_an_unknown_field_name_is_never_echoed_raw() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_command(c.NoteStrength, {"text": "ok", "bad\x00key" + "k" * 500: 1})
    field = info.value.errors[0].field
    assert "\x00" not in field
    assert len(field) < 80
    json.dumps([p.__dict__ for p in info.value.errors]).encode("utf-8")  # safe to send back
    with pytest.raises(InvalidInput) as surrogate:
        parse_command(c.NoteStrength, {"text": "ok", "k\udc80": 1})
    json.dumps(surrogate.value.message, ensure_ascii=False).encode("utf-8")


def test_the_server_makes_a_command_id_when_the_caller_gives_none() -> None:
    first = parse_meta({}, actor=CLINICIAN)
    second = parse_meta(None, actor=CLINICIAN)
    assert first.command_id != second.command_id
    assert first.actor == CLINICIAN
    header = parse_meta(
        {"command_id": "k1"}, actor=CLINICIAN, command_id="k1", expected_version="7"
    )
    assert (header.command_id, header.expected_version) == ("k1", 7)
    with pytest.raises(InvalidInput) as info:
        parse_meta({"command_id": "k1"}, actor=CLINICIAN, command_id="k2")
    assert info.value.errors[0].field == "command_id"


# ------------------------------------------------------------------------ valid Unicode
UNICODE_TEXTS = {
    "accents (composed)": "Élodie préfère le café; señora Núñez; Øresund",
    "accents (decomposed)": unicodedata.normalize("NFD", "Élodie préfère le café"),
    "CJK": "患者は毎日気分が落ち込んでいる。睡眠障害あり。",
    "emoji with joiners and skin tones": "Feels 😔 most days; family 👨‍👩‍👧 supportive 👍🏽",
    "right-to-left and mixed scripts": "המטופל מדווח על שיפור — улучшение — تحسن",
    "astral plane and symbols": "𝔐𝔬𝔬𝔡 ≥ baseline ± 2 · ✓",
    "exactly 10,000 characters": "é" * (MAX_TEXT - 2) + "🙂😀",
}


@pytest.mark.parametrize("case", sorted(UNICODE_TEXTS))
def test_valid_unicode_round_trips_exactly(service: PlanService, case: str) -> None:
    text = UNICODE_TEXTS[case]
    ids = build_signed_plan(service)
    plan_id: UUID = ids["plan_id"]
    strength = parse_command(c.NoteStrength, {"text": text})
    problem = parse_command(c.AddProblem, {"statement": text})
    envelope = parse_meta({"rationale": text}, actor=CLINICIAN)
    service.execute(plan_id, strength, envelope)
    added = service.execute(plan_id, problem, parse_meta({}, actor=CLINICIAN))
    state = service.load(plan_id)
    assert state.strengths[-1].text == text
    assert state.problems[added.item_id or ""].statement == text
    assert service.events_of(plan_id, gt=added.version - 2)[0].rationale == text
    # byte for byte: no normalisation, no escaping left behind
    assert state.strengths[-1].text.encode("utf-8") == text.encode("utf-8")
    assert service.load(plan_id, added.version - 1).strengths[-1].text == text
