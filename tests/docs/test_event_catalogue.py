"""docs/events.md documents exactly the events, fields and vocabularies the code has.

An event class missing from the catalogue, a heading for a class that no longer exists, a field
that is undocumented, no longer exists or has a different type, and a wrong topic, ``since`` or
``class_version`` each fail here, so the catalogue cannot drift from the stored schema.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from plantrail.domain import values
from plantrail.domain.events import EVENT_CLASSES, REQUIRES_RATIONALE_WHEN_ACTIVE, PlanEvent
from tests.docs.markdown import code, read, sections, table_rows, words

CATALOGUE = read("events.md")
EVENT_HEADING = re.compile(r"[A-Z][A-Za-z0-9]*")
"""An event heading is one bare class name; every other section title has several words."""

RATIONALE_RULE = "A rationale is required once the plan is active."

SECTIONS = dict(sections(CATALOGUE, 2))
EVENT_SECTIONS = {h: body for h, body in sections(CATALOGUE, 2) if EVENT_HEADING.fullmatch(h)}
VALUE_SECTIONS = dict(sections(SECTIONS.get("Value types", ""), 3))
BY_NAME = {cls.__name__: cls for cls in EVENT_CLASSES}


def annotation(model: type[BaseModel], field: str) -> str:
    """The field's type exactly as the source spells it (the modules use postponed annotations)."""
    for klass in model.__mro__:
        declared = vars(klass).get("__annotations__", {})
        if field in declared:
            value = declared[field]
            if isinstance(value, str):
                return value
            return getattr(value, "__name__", None) or str(value).replace("typing.", "")
    raise AssertionError(f"{model.__name__}.{field} has no annotation")


def field_table(body: str) -> dict[str, tuple[str, str, str]]:
    """``{field: (type, since, meaning)}`` from the four-column table of a section."""
    table: dict[str, tuple[str, str, str]] = {}
    for row in table_rows(body):
        assert len(row) == 4, f"a field row needs name, type, since and meaning: {row}"
        name, kind, since, meaning = row
        assert code(name) not in table, f"field {code(name)} is documented twice"
        table[code(name)] = (code(kind), since.strip(), meaning)
    return table


def field_since(model: type[BaseModel], field: str) -> str:
    """The release that added ``field``: the model's ``field_since`` entry, else the release
    that introduced the class (value types and ``PlanEvent`` itself date from 0.1.0)."""
    added: dict[str, str] = getattr(model, "field_since", {})
    return added.get(field, getattr(model, "since", "0.1.0"))


def assert_fields_match(title: str, body: str, model: type[BaseModel], fields: list[str]) -> None:
    documented = field_table(body)
    missing = [f for f in fields if f not in documented]
    stale = [f for f in documented if f not in fields]
    assert not missing, f"{title}: fields not documented: {missing}"
    assert not stale, f"{title}: documented fields that {model.__name__} does not have: {stale}"
    for field in fields:
        kind, since, meaning = documented[field]
        assert kind == annotation(model, field), (
            f"{title}.{field}: documented as {kind!r}, declared as {annotation(model, field)!r}"
        )
        added = field_since(model, field)
        assert since == added, f"{title}.{field}: documented since {since!r}, code says {added!r}"
        assert len(meaning.split()) >= 2, f"{title}.{field}: the meaning is empty or a single word"


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_fields_added_later_have_an_upcaster_and_a_default(cls: type[PlanEvent]) -> None:
    """A field newer than its class must be filled in for older stored events (ADR 0003)."""
    later = {f: v for f, v in cls.field_since.items() if v != cls.since}
    assert set(later) <= set(cls.model_fields), f"{cls.__name__}.field_since names unknown fields"
    if later:
        assert cls.class_version > 1, f"{cls.__name__} gained fields but kept class_version 1"
        assert all(hasattr(cls, f"upcast_v{v}_v{v + 1}") for v in range(1, cls.class_version))
        assert all(not cls.model_fields[f].is_required() for f in later)


def own_fields(cls: type[PlanEvent]) -> list[str]:
    return [f for f in cls.model_fields if f not in PlanEvent.model_fields]


# ------------------------------------------------------------------------- completeness
def test_every_event_class_has_a_section() -> None:
    missing = [name for name in BY_NAME if name not in EVENT_SECTIONS]
    assert not missing, f"add these events to docs/events.md: {missing}"


def test_every_event_section_names_an_existing_class() -> None:
    stale = [heading for heading in EVENT_SECTIONS if heading not in BY_NAME]
    assert not stale, f"docs/events.md documents events the code no longer has: {stale}"


def test_events_appear_in_the_order_of_event_classes() -> None:
    documented = [h for h in EVENT_SECTIONS if h in BY_NAME]
    assert documented == [name for name in BY_NAME if name in EVENT_SECTIONS]


def test_no_event_is_documented_twice() -> None:
    headings = [h for h, _ in sections(CATALOGUE, 2) if EVENT_HEADING.fullmatch(h)]
    assert len(headings) == len(set(headings))


# ------------------------------------------------------------------------------ events
@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_event_states_topic_since_and_class_version(cls: type[PlanEvent]) -> None:
    body = EVENT_SECTIONS.get(cls.__name__)
    if body is None:
        pytest.fail(f"{cls.__name__} is not in docs/events.md")
    topic = f"**Topic** `{cls.TOPIC}`"
    since = f"**Since** {cls.since}"
    line = f"{topic} · {since} · **class_version** {cls.class_version}"
    assert line in body, f"{cls.__name__}: expected the line {line!r}"


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_event_documents_each_of_its_fields(cls: type[PlanEvent]) -> None:
    body = EVENT_SECTIONS.get(cls.__name__)
    if body is None:
        pytest.fail(f"{cls.__name__} is not in docs/events.md")
    assert_fields_match(cls.__name__, body, cls, own_fields(cls))


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_event_explains_its_clinical_meaning(cls: type[PlanEvent]) -> None:
    body = EVENT_SECTIONS.get(cls.__name__, "")
    prose = [
        line
        for line in body.splitlines()
        if line.strip() and not line.startswith(("|", "**Topic**"))
    ]
    assert len(" ".join(prose).split()) >= 12, f"{cls.__name__}: say what the event means"


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_rationale_rule_is_stated_exactly_where_the_code_applies_it(cls: type[PlanEvent]) -> None:
    stated = RATIONALE_RULE in words(EVENT_SECTIONS.get(cls.__name__, ""))
    assert stated == (cls in REQUIRES_RATIONALE_WHEN_ACTIVE), (
        f"{cls.__name__}: the catalogue {'states' if stated else 'omits'} {RATIONALE_RULE!r}, "
        "unlike REQUIRES_RATIONALE_WHEN_ACTIVE"
    )


# --------------------------------------------------------------- metadata and value types
def test_common_metadata_documents_every_plan_event_field() -> None:
    body = SECTIONS.get("Common metadata")
    assert body is not None, "docs/events.md needs a '## Common metadata' section"
    assert_fields_match("Common metadata", body, PlanEvent, list(PlanEvent.model_fields))


def value_types() -> list[type[values.Record]]:
    return [
        item
        for item in vars(values).values()
        if isinstance(item, type) and issubclass(item, values.Record) and item is not values.Record
    ]


def test_there_are_value_types_to_check() -> None:
    assert {t.__name__ for t in value_types()} >= {"Actor", "Measure", "Assessment"}


@pytest.mark.parametrize("model", value_types(), ids=lambda model: model.__name__)
def test_value_type_documents_each_of_its_fields(model: type[values.Record]) -> None:
    body = VALUE_SECTIONS.get(model.__name__)
    if body is None:
        pytest.fail(f"add '### {model.__name__}' under '## Value types' in docs/events.md")
    assert_fields_match(model.__name__, body, model, list(model.model_fields))


def vocabularies() -> dict[str, tuple[Any, ...]]:
    return {
        name: typing.get_args(item)
        for name, item in vars(values).items()
        if typing.get_origin(item) is typing.Literal
    }


def test_vocabularies_list_exactly_the_allowed_values() -> None:
    body = SECTIONS.get("Closed vocabularies")
    assert body is not None, "docs/events.md needs a '## Closed vocabularies' section"
    documented = {
        code(name): [code(v) for v in listed.split(",")] for name, listed in table_rows(body)
    }
    expected = vocabularies()
    models: list[type[BaseModel]] = [PlanEvent, *EVENT_CLASSES, *value_types()]
    used = {
        annotation(model, field).removesuffix(" | None")
        for model in models
        for field in model.model_fields
    }
    for name in sorted(used & set(expected)):
        assert name in documented, f"vocabulary {name} is used by an event but not documented"
    for name, listed in documented.items():
        assert name in expected, f"{name} is not a vocabulary in plantrail.domain.values"
        assert listed == list(expected[name]), f"{name}: documented {listed}, code {expected[name]}"
