"""Shared checks for the decider tests: a refused command names the field at fault and says
why, and leaves the plan exactly as it was (no event, no new version)."""

from __future__ import annotations

from typing import Any

import pytest

from plantrail.domain import commands as c
from plantrail.domain.errors import ItemNotFound, RuleViolation
from tests.support.decider import Plan


def refused(plan: Plan, command: c.PlanCommand, field: str, reason: str, **meta: Any) -> None:
    """``command`` is refused as a rule violation on ``field`` whose message holds ``reason``."""
    before = plan.state.model_dump()
    with pytest.raises(RuleViolation) as info:
        plan.run(command, **meta)
    assert [p.field for p in info.value.errors] == [field]
    assert reason in info.value.errors[0].message
    assert info.value.message.startswith(f"{field}: ")
    assert plan.state.model_dump() == before


def not_found(plan: Plan, command: c.PlanCommand, kind: str, field: str, item: str) -> None:
    """``command`` names an item the plan does not have: 404, naming the item and the field."""
    before = plan.state.model_dump()
    with pytest.raises(ItemNotFound) as info:
        plan.run(command)
    assert info.value.kind == kind
    assert info.value.message == f"no {kind} {item} in this plan"
    assert [p.field for p in info.value.errors] == [field]
    assert plan.state.model_dump() == before
