"""The stored answer of a command: a retry must get back exactly what the first call answered."""

from __future__ import annotations

from dataclasses import asdict, fields

from plantrail.domain.service import CommandResult


def test_stored_form_has_every_field_and_round_trips() -> None:
    result = CommandResult("plan", 7, "objective-3", "O3", 2, True)
    stored = result.as_dict()
    # A field added to CommandResult but not to as_dict would be lost from every stored answer.
    assert stored == asdict(result)
    assert set(stored) == {f.name for f in fields(CommandResult)}
    assert CommandResult(**stored) == result


def test_defaults_are_stored_too() -> None:
    result = CommandResult("plan", 1)
    assert CommandResult(**result.as_dict()) == result
