"""The plan a user names on the command line: a full id, an unambiguous start of one, or the
client's MRN; an ambiguous or unknown reference is refused, never guessed (real stores)."""

from __future__ import annotations

from uuid import UUID

import pytest

import plantrail.domain.service as service_module
from plantrail.api.cli.plan_ref import plan_names, resolve_plan
from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.service import PlanService
from tests.support.plans import meta, open_command

TWINS = [
    UUID("abcd1234-0000-4000-8000-000000000001"),
    UUID("abcd5678-0000-4000-8000-000000000002"),
    UUID("0f0f0f0f-0000-4000-8000-000000000003"),
]


@pytest.fixture
def plans(service: PlanService, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """Three plans whose ids are chosen so that two share their first four characters; the
    first two belong to one client (an earlier plan and its renewal)."""
    ids = iter(TWINS)
    monkeypatch.setattr(service_module, "uuid4", lambda: next(ids))
    for mrn in ("MRN-7001", "MRN-7001", "MRN-7002"):
        service.open_plan(open_command(mrn), meta())
    return TWINS


def test_a_full_id_in_any_case_and_a_unique_start_name_the_plan(
    service: PlanService, plans: list[UUID]
) -> None:
    assert resolve_plan(plan_names(service), str(plans[0])) == plans[0]
    assert resolve_plan(plan_names(service), str(plans[0]).upper()) == plans[0]
    assert resolve_plan(plan_names(service), " abcd1 ") == plans[0]
    assert resolve_plan(plan_names(service), "ABCD5") == plans[1]
    assert resolve_plan(plan_names(service), "0f0f") == plans[2]


def test_a_shared_start_is_refused_with_the_candidates(
    service: PlanService, plans: list[UUID]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        resolve_plan(plan_names(service), "abcd")
    message = str(refused.value)
    assert "'abcd' starts 2 plan ids" in message
    assert str(plans[0]) in message
    assert str(plans[1]) in message
    assert "give more of the id" in message


def test_the_client_mrn_names_their_only_plan_and_refuses_when_there_are_several(
    service: PlanService, plans: list[UUID]
) -> None:
    assert resolve_plan(plan_names(service), "MRN-7002") == plans[2]
    with pytest.raises(InvalidInput) as refused:
        resolve_plan(plan_names(service), "MRN-7001")
    message = str(refused.value)
    assert "client 'MRN-7001' has 2 plans" in message
    assert str(plans[0]) in message
    assert str(plans[1]) in message


@pytest.mark.parametrize("value", ["MRN-9999", "zzzz", "abce"])
def test_an_unknown_reference_is_not_found(
    service: PlanService, plans: list[UUID], value: str
) -> None:
    with pytest.raises(NotFound, match="no plan id, start of a plan id or client MRN matches"):
        resolve_plan(plan_names(service), value)


@pytest.mark.parametrize("value", ["ab", "3fa", "3FA"])
def test_a_start_of_an_id_under_four_characters_is_too_short(
    service: PlanService, plans: list[UUID], value: str
) -> None:
    # Not "no match", which reads as if the plan did not exist.
    with pytest.raises(InvalidInput, match="too short a start of a plan id: give at least 4"):
        resolve_plan(plan_names(service), value)


def test_an_empty_reference_is_invalid(service: PlanService, plans: list[UUID]) -> None:
    with pytest.raises(InvalidInput, match="give a plan id"):
        resolve_plan(plan_names(service), "  ")
