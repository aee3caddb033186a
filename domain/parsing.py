"""Untrusted input (a dict decoded from JSON, or gathered from CLI options) → a validated command.

Every entry point (HTTP, CLI, import) goes through here, so the same bad input is refused the
same way whatever the entry point and whatever the store, before anything reaches a store.
Pydantic's ``ValidationError`` never leaves this module: it becomes ``InvalidInput`` with one
``FieldProblem`` per error, each naming the field by a dotted path ("measure.baseline",
"assessments.0.status") and saying what is wrong in words a clinician can act on. The caller's
input is never echoed back (it may hold a NUL byte, a lone surrogate or 50 kB of text); only
field names are, escaped and shortened.

    parse_command(AddObjective, body)               -> AddObjective
    parse_meta(envelope, actor=user)                -> CommandMeta
    parse_request(AddObjective, body, actor=user)   -> (AddObjective, CommandMeta)
"""

from __future__ import annotations

import types
import uuid
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from plantrail.domain.commands import ICD10_CODE, CommandMeta
from plantrail.domain.errors import FieldProblem, InvalidInput
from plantrail.domain.values import Actor

__all__ = [
    "META_FIELDS",
    "ROOT_FIELD",
    "invalid_input",
    "parse_command",
    "parse_meta",
    "parse_request",
    "problems_from_errors",
]

T = TypeVar("T", bound=BaseModel)

ROOT_FIELD = "input"
"""The field named when the input as a whole is wrong (not an object, say)."""

META_FIELDS: tuple[str, ...] = ("effective_date", "rationale", "entry_kind")
"""Common write fields that a request body carries beside the command's own (docs/api.md,
"Endpoints")."""

_ITEM_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
_MAX_SEGMENT = 60
_SHOWN_IN_SUMMARY = 2

_PATTERNS: dict[str, str] = {
    ICD10_CODE: "is not a valid ICD-10-CM code (for example F41.1)",
    _ITEM_ID_PATTERN: "is not a valid id (letters, digits and . _ : - only)",
}

_DATE = "is not a valid date (use YYYY-MM-DD)"
_DATETIME = "is not a valid date and time (use RFC 3339, e.g. 2026-03-14T09:30:00Z)"
_OBJECT = "must be an object with named fields"

_MESSAGES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
    "string_type": "must be text",
    "string_unicode": "must be valid Unicode text (no lone surrogates)",
    "string_too_long": "must be at most {max_length} characters",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "must be a date without a time of day (use YYYY-MM-DD)",
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "timezone_aware": "must include a time zone (e.g. Z for UTC)",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing_size": "is too large",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "literal_error": "must be {expected}",
    "enum": "must be {expected}",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "too_long": "must have at most {max_length} items",
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "uuid_type": "is not a valid id",
    "uuid_parsing": "is not a valid id",
    "json_invalid": "is not valid JSON",
    "json_type": "is not valid JSON",
    "recursion_loop": "is nested too deeply",
    "frozen_instance": "cannot be changed",
    "frozen_field": "cannot be changed",
}


def parse_command(model: type[T], data: object) -> T:
    """``data`` validated as ``model`` (a command, or any pydantic model), or ``InvalidInput``
    listing every field at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid_input(problems_from_errors(error.errors(), model)) from None


def parse_meta(
    data: object = None,
    *,
    actor: Actor,
    command_id: str | None = None,
    expected_version: object = None,
) -> CommandMeta:
    """The command envelope from caller-supplied ``data`` (``effective_date``, ``rationale``,
    ``entry_kind``, ``command_id``, ``expected_version``) and what the server knows.

    ``actor`` is always the authenticated user: an ``actor`` in ``data`` is refused, never
    trusted. ``command_id`` and ``expected_version`` may come from outside the body (the
    ``Idempotency-Key`` and ``If-Match`` headers, CLI options); given in both places they must
    agree. Without a command id the server makes one (the command then has no retry key)."""
    problems, meta = _meta(data, actor, command_id, expected_version)
    if problems or meta is None:
        raise invalid_input(problems)
    return meta


def parse_request(
    model: type[T],
    data: object,
    *,
    actor: Actor,
    command_id: str | None = None,
    expected_version: object = None,
) -> tuple[T, CommandMeta]:
    """A flat write body (the command's fields beside ``effective_date``, ``rationale`` and
    ``entry_kind``) as a command and its envelope; the problems of both in one ``InvalidInput``."""
    if not isinstance(data, Mapping):
        raise invalid_input((FieldProblem(ROOT_FIELD, _OBJECT),))
    envelope = {k: v for k, v in data.items() if k in META_FIELDS and k not in model.model_fields}
    body = {k: v for k, v in data.items() if k not in envelope}
    problems: list[FieldProblem] = []
    command: T | None = None
    try:
        command = model.model_validate(body)
    except ValidationError as error:
        problems.extend(problems_from_errors(error.errors(), model))
    meta_problems, meta = _meta(envelope, actor, command_id, expected_version)
    problems.extend(meta_problems)
    if problems or command is None or meta is None:
        raise invalid_input(problems)
    return command, meta


def invalid_input(problems: Iterable[FieldProblem]) -> InvalidInput:
    """One ``InvalidInput`` whose one-line message sums up the first problem(s)."""
    listed = tuple(problems) or (FieldProblem(ROOT_FIELD, "is not valid"),)
    shown = "; ".join(f"{p.field}: {p.message}" for p in listed[:_SHOWN_IN_SUMMARY])
    more = len(listed) - _SHOWN_IN_SUMMARY
    if more > 0:
        shown += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InvalidInput(shown, errors=listed)


def problems_from_errors(
    errors: Iterable[Mapping[str, Any]], model: type[BaseModel] | None = None
) -> tuple[FieldProblem, ...]:
    """Pydantic's error dicts (from ``ValidationError.errors()``, or a web framework's) as
    field problems. ``model`` lets a rule raised on a nested record name the sub-field at fault
    (a measure's "baseline 30 is outside..." becomes "measure.baseline")."""
    problems: list[FieldProblem] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        message = _message(error)
        if model is not None and error.get("type") in ("value_error", "assertion_error"):
            loc = _refine(model, loc, message)
        problem = FieldProblem(_path(loc), message)
        if problem not in problems:
            problems.append(problem)
    return tuple(problems)


# ------------------------------------------------------------------------------- helpers
def _meta(
    data: object, actor: Actor, command_id: str | None, expected_version: object
) -> tuple[list[FieldProblem], CommandMeta | None]:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        return [FieldProblem(ROOT_FIELD, _OBJECT)], None
    fields: dict[Any, Any] = dict(data)
    problems: list[FieldProblem] = []
    if "actor" in fields:
        problems.append(
            FieldProblem("actor", "is set by the server from the signed-in user; do not send it")
        )
    for name, value in (("command_id", command_id), ("expected_version", expected_version)):
        if value is None:
            continue
        if fields.get(name) is not None and str(fields[name]) != str(value):
            problems.append(FieldProblem(name, "was given twice with different values"))
        fields[name] = value
    if fields.get("command_id") is None:
        fields["command_id"] = f"srv-{uuid.uuid4()}"
    fields["actor"] = actor
    try:
        meta = CommandMeta.model_validate(fields)
    except ValidationError as error:
        problems.extend(problems_from_errors(error.errors(), CommandMeta))
        return problems, None
    return problems, meta


def _message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    text: str
    if kind == "string_unicode" and not error.get("loc"):
        text = "a field name is not valid Unicode text (it has a lone surrogate)"
    elif kind in ("value_error", "assertion_error") and "error" in ctx:
        text = str(ctx["error"])
    elif kind == "string_too_short":
        n = ctx.get("min_length", 1)
        text = "must not be empty" if n == 1 else f"must be at least {n} characters"
    elif kind == "too_short":
        n = ctx.get("min_length", 1)
        text = f"must have at least {n} item{'' if n == 1 else 's'}"
    elif kind == "string_pattern_mismatch":
        text = _PATTERNS.get(str(ctx.get("pattern")), "is not in the expected format")
    elif kind in _MESSAGES:
        try:
            text = _MESSAGES[kind].format(**ctx)
        except (KeyError, IndexError, ValueError):
            text = _MESSAGES[kind].split(" {", 1)[0]
    else:
        text = str(error.get("msg", "is not valid"))
        for prefix in ("Value error, ", "Assertion failed, ", "Input "):
            text = text.removeprefix(prefix)
        text = text[:1].lower() + text[1:]
    return " ".join(text.split()) or "is not valid"  # one line, whatever a validator wrote


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(_segment(part) for part in loc) or ROOT_FIELD


def _segment(part: object) -> str:
    """A field name as it may be shown: a caller's unknown key can hold anything."""
    text = str(part)
    safe = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text[:_MAX_SEGMENT])
    return safe + ("…" if len(text) > _MAX_SEGMENT else "") if safe else "''"


def _refine(model: type[BaseModel], loc: tuple[Any, ...], message: str) -> tuple[Any, ...]:
    """Append the sub-field a record-level rule names first ("baseline 30 is outside...")."""
    record = _model_at(model, loc)
    first = message.split(" ", 1)[0]
    if record is not None and first in record.model_fields:
        return (*loc, first)
    return loc


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The record type found at ``loc`` inside ``model``, when there is exactly one."""
    current: list[Any] = [model]
    for part in loc:
        found: list[Any] = []
        for kind in current:
            if isinstance(part, str) and _is_model(kind) and part in kind.model_fields:
                found.extend(_concrete(kind.model_fields[part].annotation))
            elif isinstance(part, int) and get_origin(kind) in (list, tuple) and get_args(kind):
                found.extend(_concrete(get_args(kind)[0]))
        current = found
    records = [kind for kind in current if _is_model(kind)]
    return records[0] if len(records) == 1 else None


def _concrete(annotation: Any) -> list[Any]:
    """The types an annotation allows, looking through Annotated[...] and unions."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _concrete(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [t for arg in get_args(annotation) if arg is not type(None) for t in _concrete(arg)]
    return [annotation]


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)
