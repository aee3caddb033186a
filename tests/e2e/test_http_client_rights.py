"""The client's rights over HTTP, on each store: a client access link (issued, used, expired,
revoked), the client signing and downloading their plan, the accounting of access
(disclosures), and break-glass reads logged with their reason until an admin reviews them."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from tests.support.http import Practice
from tests.support.plans import full_plan

CRISIS = "Client called the crisis line; on-call clinician needs the safety plan"


def issue(running: Practice, plan_id: Any, who: str = "dana", **body: Any) -> Any:
    return running.request(who, "POST", f"/plans/{plan_id}/client-access", json=body)


def as_client(running: Practice, token: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return running.client.request(method, path, headers=headers, **kwargs)


def test_a_client_reads_signs_and_downloads_their_plan_and_nothing_else(
    running: Practice,
) -> None:
    ids = full_plan(running.service, "dana")
    other = full_plan(running.service, "dana")
    plan = f"/plans/{ids['plan_id']}"
    issued = issue(running, ids["plan_id"], expires_in_days=14)
    assert issued.status_code == 201, issued.text
    grant = issued.json()
    token = grant["token"]
    assert token.startswith("pc_")
    assert grant["status"] == "active"
    # the key rides in the fragment, which no request (and so no server log) carries
    assert grant["sign_in_path"] == f"/web/sign-in#key={grant['token']}"

    me = as_client(running, token, "GET", "/me").json()
    assert me["role"] == "client"
    assert me["plan_id"] == str(ids["plan_id"])
    assert me["name"] == "Alex Moreno"

    document = as_client(running, token, "GET", plan)
    assert document.status_code == 200
    assert document.json()["client"]["name"] == "Alex Moreno"
    # Not the internal views, not the past, not another client's plan.
    internal = (plan + "/findings", plan + "/events", plan + "/revisions", plan + "/packet",
                "/plans", "/reports/findings", f"/fhir/CarePlan/{ids['plan_id']}")  # fmt: skip
    for path in internal:
        refused = as_client(running, token, "GET", path)
        assert refused.status_code == 403, path
    assert as_client(running, token, "GET", plan + "?version=1").status_code == 403
    hidden = as_client(running, token, "GET", f"/plans/{other['plan_id']}")
    assert hidden.status_code == 404

    body = {"role": "client", "meaning": "agreed", "signer_name": "Someone"}
    signed = as_client(running, token, "POST", plan + "/signatures", json=body)
    assert signed.status_code == 201, signed.text
    signatures = as_client(running, token, "GET", plan).json()["signatures"]
    mine = [s for s in signatures if s["role"] == "client"]
    assert len(mine) == 1
    assert mine[0]["signer_name"] == "Alex Moreno"  # the plan's name, not the body's
    assert mine[0]["meaning"] == "agreed"
    events = running.request("dana", "GET", plan + "/events").json()["events"]
    assert events[-1]["actor"]["role"] == "client"
    assert events[-1]["actor"]["user_id"] == f"client:{grant['grant_id']}"

    as_clinician = as_client(running, token, "POST", plan + "/signatures",
                             json={"role": "clinician", "meaning": "authored"})  # fmt: skip
    assert as_clinician.status_code == 403
    change = as_client(running, token, "POST", plan + "/strengths", json={"text": "Brave"})
    assert change.status_code == 403

    pdf = as_client(running, token, "GET", plan + "/client-copy")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Your treatment plan" in text
    assert "Alex Moreno" in text
    assert "PHQ-9 below 10" in text  # the objective
    assert "agreed" in text  # the client's own signature


def test_a_link_stops_working_when_revoked_or_expired(running: Practice) -> None:
    ids = full_plan(running.service, "dana")
    plan = f"/plans/{ids['plan_id']}"
    first = issue(running, ids["plan_id"], expires_in_days=1).json()
    second = issue(running, ids["plan_id"], expires_in_days=30).json()
    assert as_client(running, first["token"], "GET", plan).status_code == 200

    running.clock.advance(days=1, seconds=1)
    expired = as_client(running, first["token"], "GET", plan)
    assert expired.status_code == 401
    assert expired.headers["content-type"] == "application/problem+json"
    assert as_client(running, second["token"], "GET", plan).status_code == 200

    revoked = running.request("dana", "POST", f"{plan}/client-access/{second['grant_id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revoked_by"] == "dana-reyes"
    assert as_client(running, second["token"], "GET", plan).status_code == 401

    listed = running.request("dana", "GET", plan + "/client-access").json()["grants"]
    assert {g["grant_id"]: g["status"] for g in listed} == {
        first["grant_id"]: "expired",
        second["grant_id"]: "revoked",
    }
    assert all("token" not in g for g in listed)


def test_only_the_plans_clinician_issues_links_and_bad_input_stores_nothing(
    running: Practice,
) -> None:
    ids = full_plan(running.service, "dana")
    assert issue(running, ids["plan_id"], who="sam").status_code == 403
    assert issue(running, ids["plan_id"], who="marcus").status_code == 404
    for bad in ({"expires_in_days": 0}, {"expires_in_days": 366}, {"expires_in_days": "7"},
                {"days": 3}):  # fmt: skip
        refused = issue(running, ids["plan_id"], **bad)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"] == "application/problem+json"
    listed = running.request("dana", "GET", f"/plans/{ids['plan_id']}/client-access").json()
    assert listed["grants"] == []


def test_disclosures_list_who_read_the_plan_for_the_client_and_the_practice(
    running: Practice,
) -> None:
    ids = full_plan(running.service, "dana")
    plan = f"/plans/{ids['plan_id']}"
    token = issue(running, ids["plan_id"]).json()["token"]
    assert running.request("dana", "GET", plan).status_code == 200
    assert running.request("sam", "GET", plan + "/reviews").status_code == 200
    assert running.request("marcus", "GET", plan).status_code == 404  # disclosed nothing
    assert as_client(running, token, "GET", plan).status_code == 200

    seen = as_client(running, token, "GET", plan + "/disclosures").json()["disclosures"]
    readers = [(d["user_id"], d["name"], d["access"]) for d in seen]
    assert ("dana-reyes", "Dana Reyes", "read") in readers
    assert ("sam-okafor", "Sam Okafor", "read") in readers
    assert all(user != "marcus-hill" for user, _, _ in readers)
    assert seen[-1]["name"] == "the client (client access link)"
    assert any(d["access"] == "write" for d in seen)  # issuing the link was a write

    admin = running.request("admin", "GET", plan + "/disclosures?limit=2")
    assert admin.status_code == 200
    page = admin.json()
    assert len(page["disclosures"]) == 2
    rest = running.request("admin", "GET", f"{plan}/disclosures?after={page['next_after']}")
    assert rest.json()["disclosures"][0]["seq"] > page["next_after"]
    assert running.request("marcus", "GET", plan + "/disclosures").status_code == 404


def test_a_break_glass_read_is_logged_with_its_reason_until_an_admin_reviews_it(
    running: Practice,
) -> None:
    ids = full_plan(running.service, "dana")
    plan = f"/plans/{ids['plan_id']}"
    reason = {"X-Break-Glass-Reason": CRISIS}
    assert running.request("marcus", "GET", plan).status_code == 404
    read = running.request("marcus", "GET", plan, headers=reason)
    assert read.status_code == 200
    assert read.json()["plan_id"] == str(ids["plan_id"])
    row = running.access_log()[-1]
    assert row["user_id"] == "marcus-hill"
    assert row["outcome"] == "ok"
    assert row["break_glass_reason"] == CRISIS
    assert running.verify_access_log()  # the reason is inside the chain

    # A write is never break-glass; the reason must say something.
    write = running.request("marcus", "POST", plan + "/strengths", json={"text": "x"},
                            headers=reason)  # fmt: skip
    assert write.status_code == 404
    short = running.request("marcus", "GET", plan, headers={"X-Break-Glass-Reason": "help"})
    assert short.status_code == 422
    assert "X-Break-Glass-Reason" in short.text
    # An auditor, an admin and a client cannot break the glass.
    assert running.request("admin", "GET", plan, headers=reason).status_code == 403
    # Inside the caller's reach the header changes nothing and is not logged as break-glass.
    assert running.request("dana", "GET", plan, headers=reason).status_code == 200
    assert running.access_log()[-1]["break_glass_reason"] is None

    findings = running.request("dana", "GET", plan + "/findings").json()["findings"]
    assert [f["code"] for f in findings].count("BREAK_GLASS_UNREVIEWED") == 1
    caseload = running.request("sam", "GET", "/reports/findings").json()["findings"]
    assert any(f["code"] == "BREAK_GLASS_UNREVIEWED" for f in caseload)
    disclosed = running.request("dana", "GET", plan + "/disclosures").json()["disclosures"]
    assert [d["break_glass_reason"] for d in disclosed if d["user_id"] == "marcus-hill"] == [CRISIS]

    listed = running.request("alex", "GET", "/reports/break-glass?unreviewed=true").json()
    assert [(r["user_id"], r["reason"], r["reviewed"]) for r in listed["reads"]] == [
        ("marcus-hill", CRISIS, False)
    ]
    seq = listed["reads"][0]["seq"]
    assert running.request("dana", "GET", "/reports/break-glass").status_code == 403
    note = {"note": "Confirmed with the on-call log: crisis call at 21:40"}
    assert running.request("alex", "POST", f"/reports/break-glass/{seq}/review",
                           json=note).status_code == 403  # fmt: skip
    reviewed = running.request("admin", "POST", f"/reports/break-glass/{seq}/review", json=note)
    assert reviewed.status_code == 201, reviewed.text
    assert reviewed.json()["review"]["reviewed_by"] == "admin"
    again = running.request("admin", "POST", f"/reports/break-glass/{seq}/review", json=note)
    assert again.status_code == 422
    assert running.request("admin", "POST", "/reports/break-glass/999999/review",
                           json=note).status_code == 404  # fmt: skip

    findings = running.request("dana", "GET", plan + "/findings").json()["findings"]
    assert "BREAK_GLASS_UNREVIEWED" not in [f["code"] for f in findings]
    assert running.request("admin", "GET", "/reports/break-glass?unreviewed=true").json() == {
        "reads": []
    }


def test_a_client_asks_for_an_amendment_and_disagrees_with_its_denial(running: Practice) -> None:
    ids = full_plan(running.service, "dana")
    plan = f"/plans/{ids['plan_id']}"
    token = issue(running, ids["plan_id"]).json()["token"]
    asked = as_client(running, token, "POST", plan + "/amendments", json={
        "concerns": "Problem 1", "item_ids": [ids["problem"]],
        "requested_change": "Say my mood is low, not hopeless",
        "reason": "I never said hopeless", "received_on": "2020-01-01",
        "requested_by": "Someone else",
    })  # fmt: skip
    assert asked.status_code == 201, asked.text
    amendment_id = asked.json()["id"]
    [mine] = running.request("dana", "GET", plan).json()["amendments"]
    assert mine["received_on"] == running.clock().date().isoformat()  # not the body's date
    assert mine["requested_by"].startswith("Alex Moreno")
    events = running.request("dana", "GET", plan + "/events").json()["events"]
    assert events[-1]["actor"]["role"] == "client"

    deny = {"denial_basis": "accurate_and_complete", "denial_text": "The intake note says it."}
    by_client = as_client(running, token, "POST", f"{plan}/amendments/{amendment_id}/deny",
                          json=deny)  # fmt: skip
    assert by_client.status_code == 403
    denied = running.request("dana", "POST", f"{plan}/amendments/{amendment_id}/deny", json=deny)
    assert denied.status_code == 200, denied.text
    statement = {"statement": "I disagree: I was grieving, not hopeless."}
    filed = as_client(running, token, "POST", f"{plan}/amendments/{amendment_id}/disagreement",
                      json=statement)  # fmt: skip
    assert filed.status_code == 200, filed.text
    rebuttal = as_client(running, token, "POST", f"{plan}/amendments/{amendment_id}/rebuttal",
                         json={"rebuttal": "x"})  # fmt: skip
    assert rebuttal.status_code == 403
    [shown] = as_client(running, token, "GET", plan).json()["amendments"]
    assert shown["disagreement_statement"]["statement"] == statement["statement"]


def test_a_client_may_not_set_the_entry_kind_rationale_or_effective_date(
    running: Practice,
) -> None:
    """The record's own labels are the practice's: a client's request or signature that sets
    one is refused with 403 naming the field, and nothing is stored."""
    ids = full_plan(running.service, "dana")
    plan = f"/plans/{ids['plan_id']}"
    token = issue(running, ids["plan_id"]).json()["token"]
    request = {"concerns": "Problem 1", "requested_change": "Say low", "reason": "Not hopeless"}
    before = running.request("dana", "GET", plan).json()["version"]
    for field, value in [
        ("entry_kind", "correction"),
        ("rationale", "The clinician agreed on the phone."),
        ("effective_date", "2020-01-01"),
    ]:
        refused = as_client(running, token, "POST", plan + "/amendments",
                            json={**request, field: value})  # fmt: skip
        assert refused.status_code == 403, refused.text
        assert refused.json()["errors"][0]["field"] == field
        signed = as_client(running, token, "POST", plan + "/signatures", json={
            "role": "client", "meaning": "agreed", field: value})  # fmt: skip
        assert signed.status_code == 403, signed.text
    assert running.request("dana", "GET", plan).json()["version"] == before


def test_a_clinician_recording_a_request_names_when_and_from_whom(running: Practice) -> None:
    ids = full_plan(running.service, "dana")
    body = {"concerns": "Goal 1", "requested_change": "Part-time", "reason": "Not ready"}
    for missing in ("received_on", "requested_by"):
        given = {"received_on": running.clock().date().isoformat(), "requested_by": "Client"}
        given.pop(missing)
        refused = running.request("dana", "POST", f"/plans/{ids['plan_id']}/amendments",
                                  json={**body, **given})  # fmt: skip
        assert refused.status_code == 422
        assert missing in refused.text
    assert running.request("dana", "GET", f"/plans/{ids['plan_id']}").json()["amendments"] == []
