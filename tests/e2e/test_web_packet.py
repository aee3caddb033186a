"""The audit packet from the web pages: the form with a sensible period, the PDF and the page
it generates through the API's own path (same reach, same 404, one access-log record naming the
period), and bad input answered with an HTML error page that names the field."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from pypdf import PdfReader

from tests.e2e.test_web_pages import sign_in
from tests.support.http import Practice, practice
from tests.support.plans import full_plan


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


def _period(site: Practice) -> dict[str, str]:
    today = site.clock.now.date()
    return {"from": today.replace(year=today.year - 1).isoformat(), "to": today.isoformat()}


def test_the_form_offers_the_plans_period_and_is_a_tab_of_the_plan(site: Practice) -> None:
    plan = full_plan(site.service, "dana")
    sign_in(site, "alex")
    form = site.client.get(f"/web/plans/{plan['plan_id']}/packet")
    assert form.status_code == 200
    assert 'aria-current="page">Audit packet</a>' in form.text
    today = site.clock.now.date().isoformat()
    assert f'name="to" type="date" value="{today}"' in form.text
    assert 'name="format" value="pdf"' in form.text
    assert 'name="format" value="html"' in form.text
    plan_page = site.client.get(f"/web/plans/{plan['plan_id']}")
    assert f'href="/web/plans/{plan["plan_id"]}/packet"' in plan_page.text


def test_the_form_generates_the_same_packet_as_the_api(site: Practice) -> None:
    plan = full_plan(site.service, "dana")
    period = _period(site)
    sign_in(site, "alex")
    before = len(site.access_log())
    pdf = site.client.get(
        f"/web/plans/{plan['plan_id']}/packet",
        params={**period, "dates": site.clock.now.date().isoformat() + " 90837", "format": "pdf"},
    )
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Alex Moreno" in text
    assert "90837" in text, "the listed date of service and its code are answered"
    [entry] = site.access_log()[before:]
    assert entry["route"] == "/web/plans/{plan_id}/packet"
    assert entry["action"] == f"packet:{period['from']}..{period['to']}:pdf"
    assert (entry["user_id"], entry["outcome"]) == ("alex-kim", "ok")

    api = site.client.get(
        f"/plans/{plan['plan_id']}/packet",
        params={**period, "dates": site.clock.now.date().isoformat() + ":90837"},
        headers=site.auth("alex"),
    )
    assert api.headers["Packet-Digest"] == pdf.headers["Packet-Digest"], "one path, one packet"

    page = site.client.get(
        f"/web/plans/{plan['plan_id']}/packet", params={**period, "format": "html"}
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["Packet-Digest"] in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_another_caseload_gets_the_same_404_as_no_plan(site: Practice) -> None:
    marcus = full_plan(site.service, "marcus")
    sign_in(site, "dana")
    period = _period(site)
    for params in ({}, period):
        hidden = site.client.get(f"/web/plans/{marcus['plan_id']}/packet", params=params)
        unknown = uuid4()
        missing = site.client.get(f"/web/plans/{unknown}/packet", params=params)
        assert hidden.status_code == missing.status_code == 404
        # Only the address typed differs (the emergency-access form names it).
        assert hidden.text == missing.text.replace(str(unknown), str(marcus["plan_id"]))
    tries = site.access_log(plan_id=str(marcus["plan_id"]), user_id="dana-reyes")
    assert [e["outcome"] for e in tries] == ["denied", "denied"]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"from": "2026-01-01"}, "to"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"from": "2026-03-01", "to": "2026-01-01"}, "from"),
        ({"from": "2026-01-01", "to": "2026-03-01", "dates": "next tuesday"}, "not a date"),
        ({"from": "2026-01-01", "to": "2026-03-01", "format": "docx"}, "format"),
    ],
)
def test_bad_input_is_an_error_page_naming_the_field(
    site: Practice, params: dict[str, str], says: str
) -> None:
    plan = full_plan(site.service, "dana")
    sign_in(site, "dana")
    response = site.client.get(f"/web/plans/{plan['plan_id']}/packet", params=params)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("text/html")
    assert says in response.text
    assert "Traceback" not in response.text
