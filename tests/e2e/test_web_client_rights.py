"""The client's pages and the break-glass form over HTTP, as a browser uses them, on each store:
a client opens their link, signs their plan, downloads it and sees who read it, and cannot reach
any other page; a clinician outside the caseload reads a plan in an emergency with a reason."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.e2e.test_web_pages import csrf_of, guard_of, sign_in
from tests.support.http import Practice, practice
from tests.support.plans import full_plan

REASON = "Client in crisis at the front desk; covering for Dana tonight"


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


def client_link(site: Practice, ids: dict[str, Any]) -> dict[str, Any]:
    issued = site.request("dana", "POST", f"/plans/{ids['plan_id']}/client-access", json={})
    assert issued.status_code == 201, issued.text
    found: dict[str, Any] = issued.json()
    return found


def test_a_client_opens_their_link_signs_downloads_and_sees_who_read_it(site: Practice) -> None:
    ids = full_plan(site.service)
    link = client_link(site, ids)
    form = site.client.get(link["sign_in_path"])
    assert form.status_code == 200
    assert link["token"] not in form.text  # the page's script puts it in the form, in the browser
    assert not any(e["user_id"] and e["user_id"].startswith("client:") for e in site.access_log())
    signed_in = site.client.post(
        "/web/sign-in",
        data={"guard": guard_of(form.text), "token": link["token"], "next": "/web/"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/web/client"

    mine = site.client.get("/web/client")
    assert mine.status_code == 200
    assert "Your treatment plan" in mine.text
    assert "PHQ-9 below 10" in mine.text
    assert "Sign my plan" in mine.text
    version = re.search(r'name="version" value="(\d+)"', mine.text)
    form_id = re.search(r'name="form_id" value="([^"]+)"', mine.text)
    assert version
    assert form_id
    body = {"csrf_token": csrf_of(mine.text), "version": version.group(1),
            "form_id": form_id.group(1), "agree": "yes"}  # fmt: skip
    done = site.client.post("/web/client/sign", data=body, follow_redirects=False)
    assert done.status_code == 303, done.text
    after = site.client.get("/web/client")
    assert "your signature is recorded" in site.client.get(done.headers["location"]).text
    assert "Sign my plan" not in after.text
    signatures = site.request("dana", "GET", f"/plans/{ids['plan_id']}").json()["signatures"]
    assert [(s["role"], s["meaning"]) for s in signatures if s["role"] == "client"] == [
        ("client", "agreed")
    ]

    pdf = site.client.get("/web/client/copy.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Your treatment plan" in text

    seen = site.client.get("/web/client/disclosures")
    assert seen.status_code == 200
    assert "Dana Reyes" in seen.text  # the clinician's writes and reads of the plan
    for other in ("/web/", f"/web/plans/{ids['plan_id']}", f"/web/plans/{ids['plan_id']}/history"):
        refused = site.client.get(other)
        assert refused.status_code == 403, other
        assert "Back to your plan" in refused.text


def test_a_client_signature_needs_the_box_ticked_and_the_pages_csrf(site: Practice) -> None:
    ids = full_plan(site.service)
    link = client_link(site, ids)
    form = site.client.get(link["sign_in_path"])
    site.client.post("/web/sign-in", data={"guard": guard_of(form.text), "token": link["token"]})
    mine = site.client.get("/web/client")
    version = re.search(r'name="version" value="(\d+)"', mine.text)
    assert version
    fields = {"csrf_token": csrf_of(mine.text), "version": version.group(1)}
    unticked = site.client.post("/web/client/sign", data=fields)
    assert unticked.status_code == 422
    forged = site.client.post(
        "/web/client/sign", data={**fields, "csrf_token": "x", "agree": "yes"}
    )
    assert forged.status_code == 403
    before = site.service.load(ids["plan_id"]).version
    assert before == int(version.group(1))


def test_a_clinician_outside_the_caseload_reads_a_plan_through_the_emergency_form(
    site: Practice,
) -> None:
    ids = full_plan(site.service)
    plan = f"/web/plans/{ids['plan_id']}"
    sign_in(site, "marcus")
    hidden = site.client.get(plan)
    assert hidden.status_code == 404
    assert "Emergency access (break-glass)" in hidden.text
    missing = site.client.get("/web/plans/00000000-0000-4000-8000-000000000000")
    assert missing.text.replace("00000000-0000-4000-8000-000000000000", str(ids["plan_id"])) == (
        hidden.text.replace(csrf_of(hidden.text), csrf_of(missing.text))
    )  # the same page whether the plan exists or not
    token = csrf_of(hidden.text)
    short = site.client.post(plan + "/break-glass", data={"csrf_token": token, "reason": "now"})
    assert short.status_code == 422
    read = site.client.post(plan + "/break-glass", data={"csrf_token": token, "reason": REASON})
    assert read.status_code == 200
    assert "Emergency (break-glass) read" in read.text
    assert "Alex Moreno" in read.text
    row = site.access_log()[-1]
    assert row["user_id"] == "marcus-hill"
    assert row["break_glass_reason"] == REASON
    assert site.client.get(plan).status_code == 404  # one read per reason given
    findings = site.request("dana", "GET", f"/plans/{ids['plan_id']}/findings").json()
    assert "BREAK_GLASS_UNREVIEWED" in [f["code"] for f in findings["findings"]]


def _hidden(html: str, action: str) -> dict[str, str]:
    form = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_a_client_asks_for_a_change_and_files_a_disagreement_from_their_page(
    site: Practice,
) -> None:
    ids = full_plan(site.service)
    link = client_link(site, ids)
    form = site.client.get(link["sign_in_path"])
    site.client.post("/web/sign-in", data={"guard": guard_of(form.text), "token": link["token"]})
    mine = site.client.get("/web/client")
    ask = {"concerns": "Problem 1", "requested_change": "Low mood, not hopeless",
           "reason": "I never said hopeless"}  # fmt: skip
    empty = site.client.post("/web/client/amendments",
                             data={**_hidden(mine.text, "/web/client/amendments"), **ask,
                                   "reason": ""})  # fmt: skip
    assert empty.status_code == 422
    asked = site.client.post("/web/client/amendments",
                             data={**_hidden(mine.text, "/web/client/amendments"), **ask},
                             follow_redirects=False)  # fmt: skip
    assert asked.status_code == 303, asked.text
    (aid,) = site.service.load(ids["plan_id"]).amendments
    denied = site.request("dana", "POST", f"/plans/{ids['plan_id']}/amendments/{aid}/deny",
                          json={"denial_basis": "accurate_and_complete",
                                "denial_text": "The intake note records it."})  # fmt: skip
    assert denied.status_code == 200, denied.text
    mine = site.client.get("/web/client")
    assert "Not changed: The intake note records it." in mine.text
    action = f"/web/client/amendments/{aid}/disagreement"
    filed = site.client.post(action, data={**_hidden(mine.text, action),
                                           "text": "I was grieving, not hopeless."},
                             follow_redirects=False)  # fmt: skip
    assert filed.status_code == 303, filed.text
    amendment = site.service.load(ids["plan_id"]).amendments[aid]
    assert amendment.disagreement_statement == "I was grieving, not hopeless."
    assert f'action="{action}"' not in site.client.get("/web/client").text


def test_a_client_link_keeps_the_key_out_of_every_address_the_server_sees(
    site: Practice,
) -> None:
    """The key is in the link's fragment: the sign-in page's own script (allowed by the page's
    CSP, served by the server, never inline) fills the form from it; a key in the query fills
    nothing, so no working link puts it where a server log or a proxy would keep it."""
    ids = full_plan(site.service)
    link = client_link(site, ids)
    path, _, fragment = link["sign_in_path"].partition("#")
    assert path == "/web/sign-in"
    assert fragment == f"key={link['token']}"
    form = site.client.get(f"/web/sign-in?key={link['token']}")
    assert form.status_code == 200
    assert link["token"] not in form.text
    assert '<script src="/web/static/sign-in.js"></script>' in form.text
    assert "script-src 'self'" in form.headers["content-security-policy"]
    assert "<script>" not in form.text, "no inline script"
    script = site.client.get("/web/static/sign-in.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "replaceState" in script.text
    site.client.post("/web/sign-in", data={"guard": guard_of(form.text), "token": link["token"],
                                          "next": "/web/"})  # fmt: skip
    mine = site.client.get("/web/client")
    assert mine.status_code == 200
    assert "script-src" not in mine.headers["content-security-policy"], "only sign-in has one"
