"""Signing, handing the device to the client, discharge and carrying out an amendment request,
over HTTP as a browser without JavaScript sends them, on SQLite and PostgreSQL. Every write
goes through the command path; the hand-over screen is all a handed-over session shows until
the clinician takes the device back with their own sign-in credential."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plantrail.domain import commands as c
from tests.e2e.test_web_authoring import hidden, open_form, version_of
from tests.e2e.test_web_pages import csrf_of, sign_in
from tests.support.http import Practice, meta, practice
from tests.support.plans import full_plan


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


# ----------------------------------------------------------------------- the clinician
def test_the_clinician_attests_and_the_draft_becomes_active(site: Practice) -> None:
    plan = full_plan(site.service, signed=False)
    assert site.service.load(plan["plan_id"]).status == "draft"
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "sign")
    shown = site.client.get(address).text
    assert "I, <strong>Dana Reyes</strong>, LCSW, authored this plan" in shown
    assert 'name="signer_name"' not in shown  # the signer is the signed-in user, never typed
    refused = site.client.post(address, data=base)
    assert refused.status_code == 422
    assert 'id="f-attest-error"' in refused.text
    assert version_of(site, plan["plan_id"]) == plan["version"]
    signed = site.client.post(address, data={**base, "attest": "on"}, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    state = site.service.load(plan["plan_id"])
    assert state.status == "active"
    [signature] = state.signatures.values()
    assert (signature.role, signature.meaning) == ("clinician", "authored")
    assert (signature.signer_name, signature.signer_credentials, signature.signer_id) == (
        "Dana Reyes", "LCSW", "dana-reyes",
    )  # fmt: skip


def test_a_co_signature_is_requested_of_the_plans_supervisor(site: Practice) -> None:
    plan = full_plan(site.service, signed=False)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "request-cosignature")
    shown = site.client.get(address).text
    assert '<option value="sam-okafor" selected>Sam Okafor, PhD</option>' in shown
    assert "marcus-hill" not in shown  # clinicians are not offered
    refused = site.client.post(address, data={**base, "signer_id": "marcus-hill"})
    assert refused.status_code == 422
    assert "choose an active supervisor" in refused.text
    sent = site.client.post(
        address, data={**base, "signer_id": "sam-okafor"}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    [request] = site.service.load(plan["plan_id"]).signature_requests.values()
    assert (request.role, request.meaning, request.signer_id, request.signer_name) == (
        "supervisor", "approved", "sam-okafor", "Sam Okafor",
    )  # fmt: skip


def test_discharge_needs_the_confirmation_and_a_reason(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "discharge")
    refused = site.client.post(address, data={**base, "reason": "Criteria met"})
    assert refused.status_code == 422
    assert 'id="f-confirm-error"' in refused.text
    assert version_of(site, plan["plan_id"]) == plan["version"]
    done = site.client.post(
        address, data={**base, "reason": "Criteria met", "confirm": "on"}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    assert site.service.load(plan["plan_id"]).status == "discharged"
    page = site.client.get(f"/web/plans/{plan['plan_id']}").text
    assert "/write/discharge" not in page  # a discharged plan offers no forms


# ---------------------------------------------------------------------------- hand-over
def _hand_over(site: Practice, plan: dict[str, Any]) -> str:
    screen = site.client.get(f"/web/plans/{plan['plan_id']}/hand-over")
    assert screen.status_code == 200, screen.text
    assert "I have read this plan and agree to it" in screen.text
    return screen.text


def test_a_handed_over_session_shows_only_the_hand_over_screen(site: Practice) -> None:
    plan = full_plan(site.service)
    other = full_plan(site.service)
    sign_in(site, "dana")
    _hand_over(site, plan)
    screen = f"/web/plans/{plan['plan_id']}/hand-over"
    for address in ("/web/", f"/web/plans/{other['plan_id']}", "/web/findings",
                    f"/web/plans/{plan['plan_id']}/history",
                    f"/web/plans/{plan['plan_id']}/write/add-strength"):  # fmt: skip
        bounced = site.client.get(address, follow_redirects=False)
        assert bounced.status_code == 303, address
        assert bounced.headers["location"] == screen
    caseload = site.client.get("/web/")
    assert "I have read this plan and agree to it" in caseload.text
    assert "Caseload" not in caseload.text
    assert "Sign out" not in caseload.text
    # a form of the caseload's pages is refused as well
    write = site.client.post(
        f"/web/plans/{plan['plan_id']}/write/add-strength",
        data={"csrf_token": csrf_of(caseload.text), "text": "x"}, follow_redirects=False,
    )  # fmt: skip
    assert write.status_code == 303
    assert version_of(site, plan["plan_id"]) == plan["version"]
    actions = [e["action"] for e in site.access_log(plan_id=str(plan["plan_id"]))]
    assert "web:hand-over-start" in actions
    assert "web:hand-over-only" in [e["action"] for e in site.access_log()]


def test_the_client_signs_and_the_clinician_takes_the_device_back(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    text = _hand_over(site, plan)
    action = f"/web/plans/{plan['plan_id']}/hand-over/sign"
    fields = {"csrf_token": csrf_of(text), "version": hidden(text, "version"),
              "form_id": hidden(text, "form_id")}  # fmt: skip
    unticked = site.client.post(action, data={**fields, "signer_name": "Alex Moreno"})
    assert unticked.status_code == 422
    assert 'id="agree-error"' in unticked.text
    assert version_of(site, plan["plan_id"]) == plan["version"]
    signed = site.client.post(
        action, data={**fields, "signer_name": " Alex  Moreno ", "agree": "yes"},
        follow_redirects=False,
    )  # fmt: skip
    assert signed.status_code == 303, signed.text
    state = site.service.load(plan["plan_id"])
    [client] = [s for s in state.signatures.values() if s.role == "client"]
    assert (client.meaning, client.signer_name, client.signer_id) == (
        "agreed", "Alex Moreno", None,
    )  # fmt: skip
    thanks = site.client.get(signed.headers["location"])
    assert "Thank you. Please hand the device back." in thanks.text
    assert "Sign my plan" not in thanks.text
    assert site.client.get("/web/", follow_redirects=False).status_code == 303

    end = f"/web/plans/{plan['plan_id']}/hand-over/end"
    csrf = csrf_of(thanks.text)
    wrong = site.client.post(end, data={"csrf_token": csrf, "token": "pt_0123456789abcdef_no"})
    assert wrong.status_code == 401
    assert "Thank you. Please hand the device back." in wrong.text
    someone_else = site.client.post(end, data={"csrf_token": csrf, "token": site.tokens["marcus"]})
    assert someone_else.status_code == 401
    assert site.client.get("/web/", follow_redirects=False).status_code == 303  # still handed over
    back = site.client.post(
        end, data={"csrf_token": csrf, "token": site.tokens["dana"]}, follow_redirects=False
    )
    assert back.status_code == 303
    assert back.headers["location"] == f"/web/plans/{plan['plan_id']}#h-sig"
    caseload = site.client.get("/web/")
    assert caseload.status_code == 200
    assert "Caseload" in caseload.text
    ends = [e for e in site.access_log() if e["action"].startswith("web:hand-over-end")]
    assert [(e["action"], e["outcome"]) for e in ends] == [
        ("web:hand-over-end-refused", "unauthenticated"),
        ("web:hand-over-end-refused", "unauthenticated"),
        ("web:hand-over-end", "ok"),
    ]


def test_the_client_may_decline_to_sign(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    text = _hand_over(site, plan)
    declined = site.client.post(
        f"/web/plans/{plan['plan_id']}/hand-over/decline", data={"csrf_token": csrf_of(text)}
    )
    assert "Thank you. Please hand the device back." in declined.text
    assert version_of(site, plan["plan_id"]) == plan["version"]


def test_hand_over_is_for_the_plans_own_clinician(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "sam")
    assert site.client.get(f"/web/plans/{plan['plan_id']}/hand-over").status_code == 403
    assert site.client.get("/web/").status_code == 200  # nothing was handed over


# -------------------------------------------------------------- amendments carried out now
def test_an_amendment_carried_out_now_names_the_revisions_version(site: Practice) -> None:
    plan = full_plan(site.service)
    plan_id = plan["plan_id"]
    site.service.execute(
        plan_id,
        c.RequestAmendment(
            concerns="The problem statement", item_ids=[plan["problem"]],
            requested_change="Say PHQ-9 of 12, not 16.", reason="The 16 was a bad day.",
            received_on=site.clock.now.date(), requested_by="Client",
        ),
        meta("dana"),
    )  # fmt: skip
    (aid,) = site.service.load(plan_id).amendments
    sign_in(site, "dana")
    page = site.client.get(f"/web/plans/{plan_id}").text
    assert 'name="carried_out_in_version"' not in page
    carry = f"/web/plans/{plan_id}/amendments/{aid}/carry-out"
    assert f'href="{carry}"' in page
    listing = site.client.get(carry)
    assert listing.status_code == 200
    link = f"/web/plans/{plan_id}/write/revise-problem?item={plan['problem']}&amp;amendment={aid}"
    assert f'href="{link}"' in listing.text
    address = link.replace("&amp;", "&")
    form = site.client.get(address).text
    assert re.search(r'<option value="amendment" selected>', form)
    base = {"csrf_token": csrf_of(form), "form_id": hidden(form, "form_id"),
            "version": hidden(form, "version"), "amendment": aid}  # fmt: skip
    data = {**base, "statement": "Low mood; PHQ-9 12", "diagnosis_codes": "F32.1",
            "entry_kind": "amendment", "rationale": "At the client's request"}  # fmt: skip
    unnamed = site.client.post(address, data=data)
    assert unnamed.status_code == 422
    assert 'id="f-notified-error"' in unnamed.text
    assert version_of(site, plan_id) == plan["version"] + 1  # the request only
    done = site.client.post(address, data={**data, "notified": "The client, by letter"},
                            follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    again = site.client.post(address, data={**data, "notified": "The client, by letter"},
                             follow_redirects=False)  # fmt: skip
    assert again.status_code == 303  # a double submit stores once
    state = site.service.load(plan_id)
    revised = [
        e.originator_version for e in site.service.events_of(plan_id)
        if type(e).__name__ == "ProblemRevised"
    ]  # fmt: skip
    assert len(revised) == 1
    assert state.amendments[aid].status == "accepted"
    assert state.amendments[aid].carried_out_in_version == revised[0]
    assert state.amendments[aid].notified == "The client, by letter"
    assert state.entry_kinds[revised[0]] == "amendment"
    assert state.version == revised[0] + 1


def test_a_minors_guardian_signs_in_the_clients_place(site: Practice) -> None:
    plan = full_plan(site.service, minor=True)
    sign_in(site, "dana")
    text = _hand_over(site, plan)
    assert "Robin Moreno, mother (guardian), for Alex Moreno" in text
    signed = site.client.post(
        f"/web/plans/{plan['plan_id']}/hand-over/sign",
        data={"csrf_token": csrf_of(text), "version": hidden(text, "version"),
              "form_id": hidden(text, "form_id"), "role": "guardian",
              "signer_name": "Robin Moreno", "agree": "yes"},
        follow_redirects=False,
    )  # fmt: skip
    assert signed.status_code == 303, signed.text
    state = site.service.load(plan["plan_id"])
    [guardian] = [s for s in state.signatures.values() if s.role == "guardian"]
    assert (guardian.meaning, guardian.signer_name) == ("agreed", "Robin Moreno")


def test_an_adults_plan_offers_no_guardian(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    text = _hand_over(site, plan)
    assert 'value="guardian"' not in text
    refused = site.client.post(
        f"/web/plans/{plan['plan_id']}/hand-over/sign",
        data={"csrf_token": csrf_of(text), "version": hidden(text, "version"),
              "form_id": hidden(text, "form_id"), "role": "guardian",
              "signer_name": "Someone", "agree": "yes"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert version_of(site, plan["plan_id"]) == plan["version"]


def test_an_unknown_address_of_a_handed_over_session_shows_the_screen(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    _hand_over(site, plan)
    lost = site.client.get("/web/no-such-page", follow_redirects=False)
    assert lost.status_code == 303
    assert lost.headers["location"] == f"/web/plans/{plan['plan_id']}/hand-over"
    signed_out = site.client.post("/web/sign-out", data={}, follow_redirects=False)
    assert signed_out.headers["location"] == f"/web/plans/{plan['plan_id']}/hand-over"


def test_the_sign_form_warns_of_the_findings_a_signature_leaves(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    shown = site.client.get(f"/web/plans/{plan['plan_id']}/write/sign").text
    assert "Before you sign: 1 finding would remain" in shown
    assert "Client signature missing: Alex Moreno has not signed the plan" in shown
    draft = full_plan(site.service, signed=False)
    assert (
        "Before you sign" not in site.client.get(f"/web/plans/{draft['plan_id']}/write/sign").text
    )
