"""The demo's near copy on every surface a supervisor or auditor reads: Morgan Lee's Review 1
only added "daily" to "Client will use coping skills.", so the JSON review history, the caseload
filter, the findings, the FHIR review Provenance, the reviews page and ``plantrail reviews`` all
say "nearly copied forward" and name the edit; asking for detector 1 gives the old answer."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pypdf import PdfReader

from plantrail.api.demo import load_demo
from tests.support.cli import plantrail
from tests.support.http import Practice, practice

DEMO_DAY = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture
def morgan(store_url: str, tmp_path: Path) -> Iterator[tuple[Practice, UUID]]:
    with practice(store_url, tmp_path) as site:
        site.clock.now = DEMO_DAY
        plans = {p.client: p.plan_id for p in load_demo(site.service)}
        yield site, plans["Morgan Lee"]


def _reviews(site: Practice, plan_id: UUID, **params: Any) -> list[dict[str, Any]]:
    answer = site.request("sam", "GET", f"/plans/{plan_id}/reviews", params=params)
    assert answer.status_code == 200, answer.text
    return [r["copy_forward"] for r in answer.json()["reviews"]]


def test_the_review_history_calls_the_one_word_edit_a_near_copy(
    morgan: tuple[Practice, UUID],
) -> None:
    site, plan_id = morgan
    first = _reviews(site, plan_id)[0]
    assert first["verdict"] == "nearly_copied_forward"
    assert first["streak"] == 1
    assert [e["description"] for e in first["edits"]] == ["one word added: *daily*"]
    assert "Objective 1.2: one word added: *daily*" in first["explanation"]
    old = _reviews(site, plan_id, copy_forward_detector=1)[0]
    assert old["verdict"] == "updated"
    assert "edits" not in old
    bad = site.request(
        "sam", "GET", f"/plans/{plan_id}/reviews", params={"copy_forward_detector": 3}
    )
    assert bad.status_code == 422


def test_the_caseload_findings_and_fhir_show_the_near_copy(
    morgan: tuple[Practice, UUID],
) -> None:
    site, plan_id = morgan
    listed = site.request("sam", "GET", "/plans", params={"flag": "nearly_copied_forward"})
    assert listed.status_code == 200
    assert [p["plan_id"] for p in listed.json()["plans"]] == [str(plan_id)]
    findings = site.request("sam", "GET", f"/plans/{plan_id}/findings").json()["findings"]
    [copied] = [f for f in findings if f["code"] == "REVIEW_COPIED_FORWARD"]
    assert "3 copied-forward reviews in a row" in copied["message"]
    period = site.request(
        "sam",
        "GET",
        f"/plans/{plan_id}/findings",
        params={"from": "2026-06-01", "to": "2026-06-30", "copy_forward_detector": 1},
    )
    assert period.status_code == 200, period.text
    assert period.json()["copy_forward_detector"] == 1
    bundle = site.request("sam", "GET", f"/fhir/CarePlan/{plan_id}/$everything")
    assert bundle.status_code == 200, bundle.text
    verdicts = [
        ext["valueCode"]
        for entry in bundle.json()["entry"]
        if entry["resource"]["resourceType"] == "Provenance"
        for ext in entry["resource"].get("extension", [])
        if ext["url"].endswith("/copy-forward-verdict")
    ]
    assert verdicts[0] == "nearly_copied_forward"


def test_the_reviews_page_shows_the_badge_and_the_edit(morgan: tuple[Practice, UUID]) -> None:
    site, plan_id = morgan
    form = site.client.get("/web/sign-in")
    guard = re.search(r'name="guard" value="([^"]+)"', form.text)
    assert guard is not None
    site.client.post(
        "/web/sign-in",
        data={"guard": guard.group(1), "token": site.tokens["sam"], "next": "/web/"},
        follow_redirects=False,
    )
    page = site.client.get(f"/web/plans/{plan_id}/reviews")
    assert page.status_code == 200
    assert "nearly copied forward</span>" in page.text
    assert "Objective 1.2: one word added: <em>daily</em>" in page.text
    caseload = site.client.get("/web/", params={"flag": "nearly_copied_forward"})
    assert caseload.status_code == 200
    assert "nearly copied forward" in caseload.text


def test_plantrail_reviews_names_the_small_edit(
    demo_store: tuple[str, Path, list[dict[str, str]]],
) -> None:
    db, keys, plans = demo_store
    [morgan] = [p for p in plans if p.get("client") == "Morgan Lee"]
    shown = plantrail("reviews", morgan["plan_id"], db=db, keys=keys).stdout
    assert "nearly copied forward" in shown
    assert "Small edit, Objective 1.2: one word added: daily" in shown
    as_json = json.loads(plantrail("reviews", morgan["plan_id"], "--json", db=db, keys=keys).stdout)
    assert as_json[0]["copy_forward"]["verdict"] == "nearly_copied_forward"


def test_the_packet_names_the_near_copy(morgan: tuple[Practice, UUID]) -> None:
    site, plan_id = morgan
    html = site.request(
        "sam",
        "GET",
        f"/plans/{plan_id}/packet",
        params={"from": "2026-01-01", "to": "2026-11-19", "format": "html"},
    )
    assert html.status_code == 200, html.text
    assert "nearly copied forward" in html.text
    assert "Objective 1.2: one word added: daily" in html.text
    pdf = site.request(
        "sam", "GET", f"/plans/{plan_id}/packet", params={"from": "2026-01-01", "to": "2026-11-19"}
    )
    assert pdf.status_code == 200
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert "nearly copied forward (only small edits" in text
    assert "Objective 1.2: one word added: daily" in text
