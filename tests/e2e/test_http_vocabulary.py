"""``GET /vocabulary/icd-10-cm``: the diagnosis search the plan pages type into, over HTTP."""

from __future__ import annotations

import pytest

from tests.support.http import Practice

PATH = "/vocabulary/icd-10-cm"


@pytest.mark.parametrize("who", ["dana", "sam", "alex"])
def test_a_reader_finds_a_diagnosis_by_its_words(running: Practice, who: str) -> None:
    answer = running.request(who, "GET", PATH, params={"q": "generalized anxiety"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "query": "generalized anxiety",
        "codes": [{"code": "F41.1", "description": "Generalized anxiety disorder"}],
    }


def test_a_code_prefix_finds_billable_codes_only_up_to_the_limit(running: Practice) -> None:
    body = running.request("dana", "GET", PATH, params={"q": "f41", "limit": 3}).json()
    assert body["query"] == "f41"
    assert [c["code"] for c in body["codes"]] == ["F41.0", "F41.1", "F41.3"]
    everything = running.request("dana", "GET", PATH, params={"q": "F41"}).json()["codes"]
    assert "F41" not in [c["code"] for c in everything]  # a category is no pick


@pytest.mark.parametrize("query", ["", "F", "zzqx plorbant"])
def test_short_and_unknown_queries_find_nothing(running: Practice, query: str) -> None:
    answer = running.request("dana", "GET", PATH, params={"q": query})
    assert answer.status_code == 200
    assert answer.json() == {"query": query, "codes": []}


def test_the_search_is_logged_as_one_read_of_no_plan(running: Practice) -> None:
    running.request("dana", "GET", PATH, params={"q": "panic"})
    entry = running.access_log()[-1]
    assert (entry["user_id"], entry["action"], entry["plan_id"], entry["status"]) == (
        "dana-reyes", "vocabulary:icd-10-cm", None, 200,
    )  # fmt: skip


def test_without_a_token_it_is_401(running: Practice) -> None:
    answer = running.request(None, "GET", PATH, params={"q": "anxiety"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_an_admin_is_refused_as_for_the_caseload(running: Practice) -> None:
    answer = running.request("admin", "GET", PATH, params={"q": "anxiety"})
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("query", "limit", "field"),
    [
        ("a" * 500, 20, "q"),
        ("a" * 101, 20, "q"),
        ("anxiety\ndisorder", 20, "q"),
        ("anx\x00", 20, "q"),
        ("anx\tiety", 20, "q"),
        ("anxiety", 0, "limit"),
        ("anxiety", 51, "limit"),
    ],
)
def test_bad_input_is_a_422_problem(running: Practice, query: str, limit: int, field: str) -> None:
    answer = running.request("dana", "GET", PATH, params={"q": query, "limit": limit})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:plantrail:problem:invalid-input"
    assert [e["field"] for e in problem["errors"]] == [field]


def test_a_missing_query_is_a_422_problem(running: Practice) -> None:
    answer = running.request("dana", "GET", PATH)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["q"]
