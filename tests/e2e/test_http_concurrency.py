"""Concurrency and retries over HTTP: ETag / If-Match, the same-version race, Idempotency-Key.

The engine's race and retry tests, driven through the API: writers that read the same version
race with ``If-Match``; exactly one wins, the others get ``412`` (they read before the winner
committed and the check caught it) or ``409`` (they lost at the store's unique constraint), and
nothing of theirs is stored. A retry with the same ``Idempotency-Key`` and body answers exactly
as the first time, also when the first answer was lost after the commit.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest

from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from tests.support.http import Practice, second_server
from tests.support.plans import full_plan


def strengths(service: PlanService, plan_id: UUID) -> list[str]:
    return [s.text for s in service.load(plan_id).strengths]


def hold_inserts(monkeypatch: pytest.MonkeyPatch, *services: PlanService) -> None:
    """Make the next write of each service wait for the others at the store's door: every
    writer has then decided on the same version before any of them saves (the losing
    interleaving, on purpose). Each service is a separate server, as two workers are."""
    barrier = threading.Barrier(len(services), timeout=120)
    for service in services:
        recorder = recorder_of(service)
        real = recorder.insert_events
        waiting = {"first": True}

        def insert(*args: Any, _real: Any = real, _waiting: Any = waiting, **kwargs: Any) -> Any:
            if _waiting["first"]:
                _waiting["first"] = False
                barrier.wait()
            return _real(*args, **kwargs)

        monkeypatch.setattr(recorder, "insert_events", insert)


def test_etag_and_if_match(running: Practice) -> None:
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}"
    got = running.request("dana", "GET", path)
    assert got.headers["ETag"] == f'"{plan["version"]}"' == f'"{got.json()["version"]}"'
    body = {"text": "Walks daily"}

    stale = running.request(
        "dana",
        "POST",
        path + "/strengths",
        json=body,
        headers={"If-Match": f'"{plan["version"] - 1}"'},
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == plan["version"]
    assert stale.headers["ETag"] == f'"{plan["version"]}"'
    assert strengths(running.service, plan["plan_id"]) == ["Supportive sister"]

    for never in ('"0"', '"999999999999"'):
        refused = running.request(
            "dana", "POST", path + "/strengths", json=body, headers={"If-Match": never}
        )
        assert refused.status_code == 412, never
        assert refused.json()["current_version"] == plan["version"]
    malformed = running.request(
        "dana", "POST", path + "/strengths", json=body, headers={"If-Match": "W/abc"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "If-Match"

    fresh = running.request(
        "dana", "POST", path + "/strengths", json=body, headers={"If-Match": got.headers["ETag"]}
    )
    assert fresh.status_code == 201
    assert fresh.json()["version"] == plan["version"] + 1
    assert fresh.headers["ETag"] == f'"{plan["version"] + 1}"'
    anything = running.request(
        "dana", "POST", path + "/barriers", json=body, headers={"If-Match": "*"}
    )
    assert anything.status_code == 201


def test_same_version_race_has_exactly_one_winner(running: Practice) -> None:
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}"
    writers, rounds = 6, 8
    outcomes: list[tuple[int, int, str]] = []

    def writer(n: int, round_no: int, etag: str) -> tuple[int, int, str]:
        text = f"round {round_no} writer {n}"
        response = running.request(
            "dana", "POST", path + "/strengths", json={"text": text}, headers={"If-Match": etag}
        )
        return round_no, response.status_code, text

    with ThreadPoolExecutor(writers) as pool:
        for round_no in range(rounds):
            etag = running.request("dana", "GET", path).headers["ETag"]
            outcomes += pool.map(writer, range(writers), [round_no] * writers, [etag] * writers)

    statuses = Counter(status for _, status, _ in outcomes)
    assert set(statuses) <= {201, 409, 412}, statuses
    for round_no in range(rounds):
        assert [s for r, s, _ in outcomes if r == round_no].count(201) == 1, round_no
    winners = sorted(text for _, status, text in outcomes if status == 201)
    stored = strengths(running.service, plan["plan_id"])
    assert sorted(stored) == sorted([*winners, "Supportive sister"])
    assert running.service.load(plan["plan_id"]).version == plan["version"] + rounds


def test_lost_race_answers_409_and_stores_nothing(
    running: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}/strengths"
    etag = f'"{plan["version"]}"'
    with second_server(running) as other:
        hold_inserts(monkeypatch, running.service, other.service)

        def post(job: tuple[Practice, str]) -> Any:
            server, text = job
            return server.request(
                "dana", "POST", path, json={"text": text}, headers={"If-Match": etag}
            )

        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(post, [(running, "Curious"), (other, "Funny")])
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    lost = first if first.status_code == 409 else second
    assert lost.headers["content-type"] == "application/problem+json"
    assert lost.json()["type"].endswith("concurrent-write")
    assert running.service.load(plan["plan_id"]).version == plan["version"] + 1
    assert len(strengths(running.service, plan["plan_id"])) == 2


def test_idempotent_retry_answers_as_the_first_time(running: Practice) -> None:
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}/goals"
    body = {"statement": "Sleep seven hours", "problem_ids": [plan["problem"]]}
    key = {"Idempotency-Key": "goal-2026-03-02-a"}

    first = running.request("dana", "POST", path, json=body, headers=key)
    again = running.request("dana", "POST", path, json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert first.headers["ETag"] == again.headers["ETag"]
    state = running.service.load(plan["plan_id"])
    assert state.version == plan["version"] + 1
    assert [g.statement for g in state.goals.values()].count("Sleep seven hours") == 1

    other = running.request("dana", "POST", path, json={**body, "statement": "Other"}, headers=key)
    assert other.status_code == 422
    assert other.json()["errors"] == [
        {"field": "Idempotency-Key", "message": "was already used for a different request"}
    ]
    assert running.service.load(plan["plan_id"]).version == plan["version"] + 1

    # Keys belong to their user: Marcus's same key is a new request, never Dana's answer.
    marcus = full_plan(running.service, "marcus")
    theirs = running.request(
        "marcus",
        "POST",
        f"/plans/{marcus['plan_id']}/goals",
        json={"statement": "Sleep seven hours"},
        headers=key,
    )
    assert theirs.status_code == 201
    assert theirs.json()["plan_id"] == str(marcus["plan_id"])


def test_a_retry_with_a_refreshed_if_match_replays_the_first_answer(running: Practice) -> None:
    """A client that lost the answer, re-read the plan and retried with the same key and body
    under the new ETag gets the first answer, not an invitation to resend under a new key."""
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}/strengths"
    body = {"text": "Walks daily"}
    first = running.request(
        "dana",
        "POST",
        path,
        json=body,
        headers={"Idempotency-Key": "s-1", "If-Match": f'"{plan["version"]}"'},
    )
    assert first.status_code == 201
    again = running.request(
        "dana",
        "POST",
        path,
        json=body,
        headers={"Idempotency-Key": "s-1", "If-Match": first.headers["ETag"]},
    )
    assert again.status_code == 201
    assert again.content == first.content
    assert running.service.load(plan["plan_id"]).version == plan["version"] + 1


def test_opening_a_plan_is_idempotent(running: Practice) -> None:
    body = {
        "client": {"id": "MRN-77", "name": "Sky Parr", "date_of_birth": "1990-04-04"},
        "plan_end_date": "2026-12-31",
    }
    key = {"Idempotency-Key": "open-MRN-77"}
    first = running.request("dana", "POST", "/plans", json=body, headers=key)
    again = running.request("dana", "POST", "/plans", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert recorder_of(running.service).plan_ids() == [UUID(first.json()["plan_id"])]


def test_concurrent_retries_store_once(running: Practice, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}/barriers"
    with second_server(running) as other:
        hold_inserts(monkeypatch, running.service, other.service)

        def post(server: Practice) -> Any:
            return server.request(
                "dana", "POST", path, json={"text": "Night shifts"},
                headers={"Idempotency-Key": "barrier-1"},
            )  # fmt: skip

        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(post, [running, other])
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert running.service.load(plan["plan_id"]).version == plan["version"] + 1


def test_retry_after_a_crash_between_commit_and_answer(
    running: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}/strengths"
    real = running.service.execute

    def commit_then_crash(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise RuntimeError("the server died before it could answer")

    monkeypatch.setattr(running.service, "execute", commit_then_crash)
    request = {"json": {"text": "Plays guitar"}, "headers": {"Idempotency-Key": "s-42"}}
    crashed = running.request("dana", "POST", path, **request)
    assert crashed.status_code == 500  # the simulated crash: the caller never got the answer
    monkeypatch.setattr(running.service, "execute", real)

    retried = running.request("dana", "POST", path, **request)
    assert retried.status_code == 201
    assert retried.json()["version"] == plan["version"] + 1
    assert strengths(running.service, plan["plan_id"]).count("Plays guitar") == 1


def test_without_a_key_each_request_is_new(running: Practice) -> None:
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}/strengths"
    for _ in range(2):
        assert running.request("dana", "POST", path, json={"text": "Kind"}).status_code == 201
    assert strengths(running.service, plan["plan_id"]).count("Kind") == 2
