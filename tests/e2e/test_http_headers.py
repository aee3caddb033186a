"""Headers every answer carries and the schema pages: JSON, FHIR and problem answers are never
cached and never sniffed (as pages and PDFs), and ``/docs`` and ``/redoc`` load their scripts
from the server itself (they work offline and run no third-party script where tokens are
pasted)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.http import Practice
from tests.support.plans import full_plan


@pytest.fixture
def plan(running: Practice) -> dict[str, Any]:
    return full_plan(running.service)


def test_json_fhir_and_problem_answers_are_not_cached_or_sniffed(
    running: Practice, plan: dict[str, Any]
) -> None:
    answers = [
        running.request("dana", "GET", f"/plans/{plan['plan_id']}"),
        running.request("dana", "GET", "/plans"),
        running.request("dana", "GET", "/me"),
        running.request("dana", "GET", f"/fhir/CarePlan/{plan['plan_id']}"),
        running.request("dana", "GET", "/fhir/metadata"),
        running.request(None, "GET", "/plans"),  # 401
        running.request("dana", "GET", "/plans/not-a-uuid"),  # 422
        running.request("dana", "GET", "/health"),
    ]
    for answer in answers:
        assert answer.headers.get("cache-control") == "no-store", answer.request.url
        assert answer.headers.get("x-content-type-options") == "nosniff", answer.request.url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_schema_pages_load_their_scripts_from_the_server(running: Practice, page: str) -> None:
    html = running.client.get(page)
    assert html.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert sources
    assert all(source.startswith("/") for source in sources), sources
    assert "cdn" not in html.text.lower()
    assert "fonts.googleapis" not in html.text
    for source in sources:
        if source == "/openapi.json":
            continue
        asset = running.client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 1000
        assert asset.headers["x-content-type-options"] == "nosniff"
