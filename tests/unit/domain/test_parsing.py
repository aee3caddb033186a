"""Untrusted input → a command: every problem is reported at once, each naming its field by a
dotted path with a reason a clinician can act on; the caller's values are never echoed back,
and the envelope (actor, command id, expected version) is the server's to set or check."""

from __future__ import annotations

from typing import Any

import pytest

from plantrail.domain import commands as c
from plantrail.domain.errors import FieldProblem, InvalidInput
from plantrail.domain.parsing import (
    ROOT_FIELD,
    invalid_input,
    parse_command,
    parse_meta,
    parse_request,
    problems_from_errors,
)
from tests.support import CLINICIAN


def problems(error: InvalidInput) -> dict[str, str]:
    return {p.field: p.message for p in error.errors}


def refused_command(model: type[c.Command], data: object) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        parse_command(model, data)
    return problems(info.value)


# ---------------------------------------------------------------------------- the envelope
def test_an_envelope_without_fields_gets_a_server_made_command_id() -> None:
    meta = parse_meta(None, actor=CLINICIAN)
    assert meta.actor == CLINICIAN
    assert meta.command_id.startswith("srv-")
    assert parse_meta({}, actor=CLINICIAN).command_id != meta.command_id


def test_the_command_id_and_version_may_come_from_headers_if_they_agree() -> None:
    meta = parse_meta(
        {"command_id": "k-1", "expected_version": 4, "rationale": "Client asked"},
        actor=CLINICIAN,
        command_id="k-1",
        expected_version="4",
    )
    assert (meta.command_id, meta.expected_version, meta.rationale) == ("k-1", 4, "Client asked")
    with pytest.raises(InvalidInput) as info:
        parse_meta(
            {"command_id": "k-1", "expected_version": 4},
            actor=CLINICIAN,
            command_id="k-2",
            expected_version=5,
        )
    assert problems(info.value) == {
        "command_id": "was given twice with different values",
        "expected_version": "was given twice with different values",
    }


def test_the_caller_never_names_the_actor() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_meta({"actor": {"user_id": "root"}}, actor=CLINICIAN)
    assert problems(info.value) == {
        "actor": "is set by the server from the signed-in user; do not send it"
    }


def test_an_envelope_that_is_not_an_object_is_refused_as_a_whole() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_meta(["effective_date"], actor=CLINICIAN)
    assert problems(info.value) == {ROOT_FIELD: "must be an object with named fields"}


def test_envelope_fields_are_checked_with_words() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_meta(
            {"effective_date": "14/03/2026", "entry_kind": "backdated", "expected_version": 0},
            actor=CLINICIAN,
        )
    found = problems(info.value)
    assert found["effective_date"] == "is not a valid date (use YYYY-MM-DD)"
    assert found["expected_version"] == "must be at least 1"
    assert found["entry_kind"].startswith("must be 'original'")


# ---------------------------------------------------------------------- a flat request body
def test_a_request_body_splits_into_command_and_envelope() -> None:
    command, meta = parse_request(
        c.NoteStrength,
        {"text": "Plays in a band", "effective_date": "2026-03-01", "rationale": "Intake"},
        actor=CLINICIAN,
        command_id="k-9",
    )
    assert command == c.NoteStrength(text="Plays in a band")
    assert (str(meta.effective_date), meta.rationale, meta.command_id) == (
        "2026-03-01",
        "Intake",
        "k-9",
    )


def test_a_command_field_named_like_an_envelope_field_stays_with_the_command() -> None:
    # RecordRationale has its own ``text``; ``rationale`` of the envelope is still the envelope's
    command, meta = parse_request(
        c.RecordRationale,
        {"text": "Why", "explains_version": 2, "rationale": "Because"},
        actor=CLINICIAN,
    )
    assert (command.text, command.explains_version, meta.rationale) == ("Why", 2, "Because")


def test_every_problem_of_a_request_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_request(
            c.SetTimeline,
            {"estimated_sessions": 0, "effective_date": "soon", "colour": "red"},
            actor=CLINICIAN,
        )
    assert problems(info.value) == {
        "estimated_sessions": "must be at least 1",
        "session_frequency": "is required",
        "colour": "unknown field",
        "effective_date": "is not a valid date (use YYYY-MM-DD)",
    }
    assert info.value.message.endswith("(and 2 more problems)")


def test_a_request_that_is_not_an_object_is_refused_as_a_whole() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_request(c.NoteStrength, "Plays in a band", actor=CLINICIAN)
    assert problems(info.value) == {ROOT_FIELD: "must be an object with named fields"}


# --------------------------------------------------------------------- one line, in summary
@pytest.mark.parametrize(
    ("count", "summary"),
    [
        (0, "input: is not valid"),
        (1, "a: wrong 0"),
        (2, "a: wrong 0; a: wrong 1"),
        (3, "a: wrong 0; a: wrong 1 (and 1 more problem)"),
        (5, "a: wrong 0; a: wrong 1 (and 3 more problems)"),
    ],
)
def test_the_message_sums_up_the_first_two_problems(count: int, summary: str) -> None:
    error = invalid_input(FieldProblem("a", f"wrong {n}") for n in range(count))
    assert error.message == summary
    assert len(error.errors) == max(count, 1)


# ------------------------------------------------------------------------ field by field
def test_a_rule_on_a_nested_record_names_the_sub_field() -> None:
    found = refused_command(
        c.AddObjective,
        {
            "goal_id": "g1",
            "statement": "PHQ-9 below 10",
            "measure": {"instrument": "PHQ-9", "baseline": 30, "target": 9},
        },
    )
    assert found == {"measure.baseline": "baseline 30 is outside the PHQ-9 range 0–27"}


def test_a_rule_on_a_record_in_a_list_names_the_item_and_sub_field() -> None:
    found = refused_command(
        c.OpenPlan,
        {
            "client": {"id": "MRN-1", "name": "Alex Moreno", "date_of_birth": "1850-01-01"},
            "clinician": {"user_id": "dana", "name": "Dana Reyes"},
            "plan_end_date": "2027-01-01",
        },
    )
    assert found == {"client.date_of_birth": "date_of_birth must be after 1900"}


def test_a_rule_whose_first_word_is_no_field_names_the_record() -> None:
    found = refused_command(
        c.AddObjective,
        {
            "goal_id": "g1",
            "statement": "PHQ-9 at most 4",
            "measure": {"instrument": "PHQ-9", "baseline": 3, "direction": "maintain"},
        },
    )
    assert list(found) == ["measure"]
    assert found["measure"].startswith("a maintain measure needs a threshold and keep")


def test_a_rule_on_an_item_of_a_list_of_records_names_the_item() -> None:
    found = refused_command(
        c.SetSafetyPlan,
        {
            "warning_signs": ["Stops answering texts"],
            "coping_strategies": ["Walk the dog"],
            "contacts": [{"name": "Maya", "kind": "support", "phone": "555\x000142"}],
        },
    )
    assert found == {"contacts.0.phone": "must not contain NUL characters"}


@pytest.mark.parametrize(
    ("model", "data", "field", "message"),
    [
        (c.NoteStrength, {"text": ""}, "text", "must not be empty"),
        (c.NoteStrength, {"text": "   "}, "text", "must not be empty"),
        (c.SetDischargeCriteria, {"criteria": []}, "criteria", "must have at least 1 item"),
        (c.AddDiagnosis, {"code": "U07.1", "description": "x"}, "code", "is not a valid ICD-10-CM"),
        (c.VoidMeasurement, {"measurement_id": "m 1"}, "measurement_id", "is not a valid id"),
        (c.NoteStrength, {"text": 5}, "text", "must be text"),
        (
            c.SetTimeline,
            {"estimated_sessions": 1001, "session_frequency": "weekly"},
            "estimated_sessions",
            "must be at most 1000",
        ),
        (c.StartReview, {"reason": "whim"}, "reason", "must be 'scheduled'"),
    ],
)
def test_each_kind_of_problem_reads_as_words(
    model: type[c.Command], data: dict[str, Any], field: str, message: str
) -> None:
    assert refused_command(model, data)[field].startswith(message)


def test_a_field_name_is_shown_escaped_and_shortened() -> None:
    found = refused_command(c.NoteStrength, {"text": "x", "a\x00b\nc" + "d" * 100: 1})
    [name] = [f for f in found if f != "text"]
    assert name.startswith("a\\u0000b\\u000ac")
    assert name.endswith("…")
    assert len(name) < 80
    assert refused_command(c.NoteStrength, {"text": "x", "": 1}) == {"''": "unknown field"}


def test_a_field_name_with_a_lone_surrogate_is_named_as_such() -> None:
    errors = [{"type": "string_unicode", "loc": (), "msg": "Input should be a valid string"}]
    assert problems_from_errors(errors) == (
        FieldProblem(
            ROOT_FIELD, "a field name is not valid Unicode text (it has a lone surrogate)"
        ),
    )


# ------------------------------------------------- errors as a web framework reports them
def test_an_error_without_its_context_still_reads_as_words() -> None:
    errors = [
        {"type": "string_too_short", "loc": ("body", "name"), "msg": "too short"},
        {"type": "string_too_short", "loc": ("code",), "ctx": {"min_length": 3}},
        {"type": "too_short", "loc": ("items",), "ctx": {"min_length": 2}},
        {"type": "too_long", "loc": ("items",), "msg": "List too long"},
        {"type": "string_pattern_mismatch", "loc": ("ref",), "ctx": {"pattern": "^[a-z]+$"}},
    ]
    assert problems_from_errors(errors) == (
        FieldProblem("body.name", "must not be empty"),
        FieldProblem("code", "must be at least 3 characters"),
        FieldProblem("items", "must have at least 2 items"),
        FieldProblem("items", "must have at most"),
        FieldProblem("ref", "is not in the expected format"),
    )


def test_an_error_of_an_unknown_kind_keeps_its_own_words_on_one_line() -> None:
    errors = [
        {"type": "url_parsing", "loc": ("link",), "msg": "Input should be a valid URL"},
        {"type": "custom", "loc": ("x",), "msg": "Value error, Score\n  too   high"},
        {"type": "custom", "loc": ("y",), "msg": "Assertion failed, "},
        {"type": "custom", "loc": ("y",), "msg": "Assertion failed, "},
    ]
    assert problems_from_errors(errors) == (
        FieldProblem("link", "should be a valid URL"),
        FieldProblem("x", "score too high"),
        FieldProblem("y", "is not valid"),
    )


def test_a_rule_reported_without_a_model_keeps_the_field_it_names() -> None:
    errors = [
        {"type": "value_error", "loc": ("measure",), "ctx": {"error": "baseline 30 is high"}},
    ]
    assert problems_from_errors(errors) == (FieldProblem("measure", "baseline 30 is high"),)
    assert problems_from_errors(errors, c.AddObjective) == (
        FieldProblem("measure.baseline", "baseline 30 is high"),
    )
    # a location that leads to no single record (a list index on a record) is kept as it is
    errors = [{"type": "value_error", "loc": ("measure", 0), "ctx": {"error": "baseline bad"}}]
    assert problems_from_errors(errors, c.AddObjective) == (
        FieldProblem("measure.0", "baseline bad"),
    )
