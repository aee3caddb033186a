"""``GET /plans/{id}`` serves the current document from the in-process state and a rendering
kept per (plan, version, day): the bytes must be exactly those FastAPI writes for a
``PlanDocument`` built from a fresh load, and must follow every new version and every new day,
whichever process wrote the change."""

from __future__ import annotations

import warnings
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI

from plantrail.api.routing.schemas import PlanDocument
from plantrail.domain import commands as c
from plantrail.projections.assembly import open_service, recorder_of
from plantrail.projections.document import plan_document
from tests.support.http import Practice, meta
from tests.support.plans import full_plan

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def plan(running: Practice) -> dict[str, Any]:
    return full_plan(running.service)


def fastapi_bytes(running: Practice, plan_id: UUID) -> bytes:
    """What the route answered before the fast path: a fresh load, ``plan_document`` and
    FastAPI's own serialisation of the ``PlanDocument`` return value."""
    probe = FastAPI()

    @probe.get("/document")
    def document() -> PlanDocument:
        state = running.service.load(plan_id)
        today = running.clock().date()
        return PlanDocument.model_validate(plan_document(state, today=today))

    return TestClient(probe).get("/document").content


def get_plan(running: Practice, plan_id: UUID, **params: Any) -> Any:
    found = running.request("dana", "GET", f"/plans/{plan_id}", params=params)
    assert found.status_code == 200, found.text
    return found


def test_current_read_is_byte_identical_to_the_fastapi_path(
    running: Practice, plan: dict[str, Any]
) -> None:
    plan_id = plan["plan_id"]
    first = get_plan(running, plan_id)
    again = get_plan(running, plan_id)  # from the kept rendering
    expected = fastapi_bytes(running, plan_id)
    assert first.content == expected
    assert again.content == expected
    assert first.headers["content-type"] == "application/json"
    version = running.service.load(plan_id).version
    assert first.headers["ETag"] == again.headers["ETag"] == f'"{version}"'
    # The historical path renders the same version to the same bytes.
    assert get_plan(running, plan_id, version=version).content == expected


def test_current_read_follows_new_versions(running: Practice, plan: dict[str, Any]) -> None:
    plan_id = plan["plan_id"]
    before = get_plan(running, plan_id)
    written = running.request(
        "dana", "POST", f"/plans/{plan_id}/strengths", json={"text": "Enjoys running"}
    )
    assert written.status_code == 201, written.text
    after = get_plan(running, plan_id)
    assert after.headers["ETag"] == f'"{int(before.headers["ETag"].strip(chr(34))) + 1}"'
    assert "Enjoys running" in [s["text"] for s in after.json()["strengths"]]
    assert after.content == fastapi_bytes(running, plan_id)


def test_current_read_sees_what_another_process_wrote(
    running: Practice, plan: dict[str, Any]
) -> None:
    plan_id = plan["plan_id"]
    get_plan(running, plan_id)  # the state and its rendering are now kept in this process
    assert running.keys is not None
    other = open_service(running.url, running.keys, clock=running.clock)
    try:
        other.execute(plan_id, c.NoteStrength(text="Plays chess"), meta("dana"))
    finally:
        other.close()
        recorder_of(other).close()
    after = get_plan(running, plan_id)
    assert "Plays chess" in [s["text"] for s in after.json()["strengths"]]
    assert after.content == fastapi_bytes(running, plan_id)


def test_current_read_follows_the_day(running: Practice, plan: dict[str, Any]) -> None:
    plan_id = plan["plan_id"]
    before = get_plan(running, plan_id).json()
    running.clock.advance(days=200)  # past the review due date: the document changes
    after = get_plan(running, plan_id)
    assert after.json()["review_overdue"] != before["review_overdue"]
    assert after.content == fastapi_bytes(running, plan_id)
