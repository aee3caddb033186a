"""``GET /plans/{id}/packet`` over HTTP on both stores: who may generate a packet, its PDF and
page forms, the access-log record naming the period, and clear refusals of bad requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from plantrail.api.packet.pdf import read_manifest
from tests.support.http import Practice, practice
from tests.support.plans import full_plan


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


def _period(site: Practice) -> dict[str, str]:
    today = site.clock().date()
    return {"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}


def _get(site: Practice, who: str | None, plan: dict[str, Any], **query: str) -> Any:
    return site.request(who, "GET", f"/plans/{plan['plan_id']}/packet", params=query)


def test_an_auditor_gets_the_pdf_and_the_access_log_names_the_period(site: Practice) -> None:
    plan = full_plan(site.service)
    period = _period(site)
    before = len(site.access_log())
    answer = _get(site, "alex", plan, **period, dates=f"{period['to']}:90837")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    manifest = read_manifest(answer.content)
    assert manifest is not None
    assert answer.headers["Packet-Digest"] == manifest["digest"]
    assert manifest["generated_by"]["user_id"] == "alex-kim"
    assert manifest["dates"] == [{"date": period["to"], "cpt_codes": ["90837"]}]
    [entry] = site.access_log()[before:]
    assert entry["action"] == f"packet:{period['from']}..{period['to']}:pdf"
    assert (entry["user_id"], entry["plan_id"], entry["outcome"]) == (
        "alex-kim",
        str(plan["plan_id"]),
        "ok",
    )


def test_the_page_form_carries_the_same_content(site: Practice) -> None:
    plan = full_plan(site.service)
    answer = _get(site, "dana", plan, **_period(site), format="html")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "script-src" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["Packet-Digest"] in answer.text
    state = site.service.load(plan["plan_id"])
    for objective in state.objectives.values():
        assert objective.statement in answer.text


def test_only_the_clinician_their_supervisor_and_auditors_reach_it(site: Practice) -> None:
    plan = full_plan(site.service, "dana")
    period = _period(site)
    assert _get(site, "sam", plan, **period).status_code == 200
    hidden = _get(site, "marcus", plan, **period)
    missing = site.request(
        "marcus", "GET", f"/plans/{'0' * 8}-0000-4000-8000-{'0' * 12}/packet", params=period
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(str(plan["plan_id"]), "X") == missing.json()[
        "detail"
    ].replace(f"{'0' * 8}-0000-4000-8000-{'0' * 12}", "X")
    assert _get(site, "admin", plan, **period).status_code == 403
    assert _get(site, None, plan, **period).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ({"from": "2026-05-01"}, "to"),
        ({"from": "2026-04-01", "to": "2026-05-01", "dates": "2026-13-01"}, "dates"),
        ({"from": "2026-04-01", "to": "2026-05-01", "format": "docx"}, "format"),
        (
            {"from": "2026-04-01", "to": "2026-05-01", "generated_at": "2099-01-01T00:00:00Z"},
            "generated_at",
        ),
    ],
)
def test_bad_requests_are_refused_with_a_problem(
    site: Practice, query: dict[str, str], field: str
) -> None:
    plan = full_plan(site.service)
    answer = _get(site, "alex", plan, **query)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in answer.text


def test_a_packet_may_ask_for_either_copy_forward_detector_and_still_verifies(
    site: Practice,
) -> None:
    """A request names the detector (1: identical language only; 2: near copies too); the
    packet records the profile it was made with, so each verifies against the record."""
    from plantrail.api.packet.service import verify_packet

    plan = full_plan(site.service)
    period = _period(site)
    for detector in ("1", "2"):
        answer = _get(site, "alex", plan, **period, copy_forward_detector=detector)
        assert answer.status_code == 200, answer.text
        manifest = read_manifest(answer.content)
        assert manifest is not None
        assert manifest["profile"]["copy_forward_detector"] == int(detector)
        assert verify_packet(site.service, answer.content, site.service.events_of).matches
    refused = _get(site, "alex", plan, **period, copy_forward_detector="3")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "copy_forward_detector"
