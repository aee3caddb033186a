"""The web pages over HTTP, as a browser uses them (cookies, forms, redirects), on SQLite and
PostgreSQL: sign-in and sessions, one access policy and one access log with the API, the same
404 for another caseload's plan as for no plan, the time control, and escaping of every
user-entered text. ``tests/e2e/browser`` drives the same pages in a real Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.projections.access.web_sessions import web_sessions
from plantrail.projections.assembly import recorder_of
from tests.support.http import Practice, meta, practice
from tests.support.plans import full_plan

SIGN_IN = "/web/sign-in"


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


def guard_of(html: str) -> str:
    found = re.search(r'name="guard" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(site: Practice, who: str, *, next_page: str = "/web/") -> Any:
    """Sign ``who`` in through the form, as a browser does; returns the final response."""
    form = site.client.get(SIGN_IN)
    return site.client.post(
        SIGN_IN,
        data={"guard": guard_of(form.text), "token": site.tokens[who], "next": next_page},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def test_a_page_without_a_session_sends_to_sign_in_and_back(site: Practice) -> None:
    plan = full_plan(site.service)
    wanted = f"/web/plans/{plan['plan_id']}"
    bounced = site.client.get(wanted, follow_redirects=False)
    assert bounced.status_code == 303
    assert bounced.headers["location"] == f"{SIGN_IN}?next=%2Fweb%2Fplans%2F{plan['plan_id']}"
    signed = sign_in(site, "dana", next_page=wanted)
    assert signed.status_code == 303
    assert signed.headers["location"] == wanted
    page = site.client.get(wanted)
    assert page.status_code == 200
    assert "Alex Moreno" in page.text
    [logged] = [e for e in site.access_log() if e["action"] == "web:sign-in-required"]
    assert logged["outcome"] == "unauthenticated"


def test_the_session_cookie_holds_a_session_id_never_the_token(site: Practice) -> None:
    signed = sign_in(site, "dana")
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("plantrail_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/web" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert site.tokens["dana"] not in cookie
    with recorder_of(site.service).engine.connect() as conn:
        rows = conn.execute(select(web_sessions)).all()
    assert [r.user_id for r in rows] == ["dana-reyes"]
    assert rows[0].session_hash != value, "the table keeps a hash, not the session id"


def test_a_wrong_token_is_refused_logged_and_rate_limited(site: Practice) -> None:
    for _ in range(5):
        form = site.client.get(SIGN_IN)
        refused = site.client.post(SIGN_IN, data={"guard": guard_of(form.text), "token": "pt_nope"})
        assert refused.status_code == 401
        assert "That token is unknown, revoked, or its user is disabled." in refused.text
    form = site.client.get(SIGN_IN)
    blocked = site.client.post(
        SIGN_IN, data={"guard": guard_of(form.text), "token": site.tokens["dana"]}
    )
    assert blocked.status_code == 429, "even the right token waits once the limit is reached"
    attempts = [
        e for e in site.access_log() if e["action"] == "web:sign-in" and e["method"] == "POST"
    ]
    assert [e["outcome"] for e in attempts] == ["unauthenticated"] * 5 + ["denied"]


def test_a_sign_in_without_the_forms_guard_is_refused(site: Practice) -> None:
    refused = site.client.post(SIGN_IN, data={"token": site.tokens["dana"]})
    assert refused.status_code == 400
    assert "plantrail_session" not in refused.headers.get("set-cookie", "")


def test_sign_out_ends_the_session_on_the_server(site: Practice) -> None:
    sign_in(site, "dana")
    home = site.client.get("/web/")
    cookie = site.client.cookies.get("plantrail_session")
    assert cookie
    forged = site.client.post("/web/sign-out", data={"csrf_token": "x" * 64})
    assert forged.status_code == 403, "a sign-out without the session's CSRF token is refused"
    out = site.client.post(
        "/web/sign-out", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    site.client.cookies.set("plantrail_session", cookie, path="/web")  # a stolen copy
    again = site.client.get("/web/", follow_redirects=False)
    assert again.status_code == 303, "the old cookie no longer opens anything"


def _attempt(client: Any, **fields: str) -> int:
    form = client.get(SIGN_IN)
    answer = client.post(SIGN_IN, data={"guard": guard_of(form.text), **fields},
                         follow_redirects=False)  # fmt: skip
    status: int = answer.status_code
    return status


def test_a_success_from_the_same_address_does_not_reset_its_failures(site: Practice) -> None:
    """An attacker with an account of their own cannot interleave their own sign-ins to keep
    guessing from one address."""
    for _ in range(4):
        assert _attempt(site.client, token="pt_nope") == 401
    assert _attempt(site.client, token=site.tokens["marcus"]) == 303
    site.client.cookies.clear()
    assert _attempt(site.client, token="pt_nope") == 401
    assert _attempt(site.client, token=site.tokens["dana"]) == 429


def test_failed_passwords_are_counted_per_account_whatever_the_address(site: Practice) -> None:
    """Rotating addresses (or a forged X-Forwarded-For) does not buy more guesses at one
    account's password; another account is not affected."""
    from fastapi.testclient import TestClient

    site.app.state.plantrail.accounts.set_password("dana-reyes", "correct horse battery")
    site.app.state.plantrail.accounts.set_password("marcus-hill", "another long passphrase")
    for n in range(5):
        elsewhere = TestClient(site.app, client=(f"10.0.0.{n}", 4000))
        guess = {"user_id": "dana-reyes", "password": f"guess number {n}"}
        assert _attempt(elsewhere, **guess) == 401
    fresh = TestClient(site.app, client=("10.9.9.9", 4000))
    right = {"user_id": "dana-reyes", "password": "correct horse battery"}
    assert _attempt(fresh, **right) == 429, "the account waits, even for the right password"
    other = {"user_id": "marcus-hill", "password": "another long passphrase"}
    assert _attempt(fresh, **other) == 303


def test_sessions_end_when_idle_and_when_the_user_is_disabled(site: Practice) -> None:
    sign_in(site, "dana")
    site.clock.advance(minutes=14)
    assert site.client.get("/web/", follow_redirects=False).status_code == 200
    site.clock.advance(minutes=16)
    assert site.client.get("/web/", follow_redirects=False).status_code == 303
    sign_in(site, "marcus")
    assert site.client.get("/web/", follow_redirects=False).status_code == 200
    site.app.state.plantrail.accounts.disable("marcus-hill")
    assert site.client.get("/web/", follow_redirects=False).status_code == 303


def test_replacing_a_token_or_a_password_ends_the_users_sessions(site: Practice) -> None:
    """A token is replaced because it may be known to someone else: the sessions it (or
    anything else) opened end with it, as when the user is disabled."""
    accounts = site.app.state.plantrail.accounts
    sign_in(site, "dana")
    assert site.client.get("/web/", follow_redirects=False).status_code == 200
    site.tokens["dana"] = accounts.issue_token("dana-reyes")
    assert site.client.get("/web/", follow_redirects=False).status_code == 303
    sign_in(site, "dana")
    assert site.client.get("/web/", follow_redirects=False).status_code == 200
    accounts.set_password("dana-reyes", "a new long passphrase")
    assert site.client.get("/web/", follow_redirects=False).status_code == 303
    with recorder_of(site.service).engine.connect() as conn:
        reasons = conn.execute(
            select(web_sessions.c.end_reason).where(web_sessions.c.user_id == "dana-reyes")
        ).scalars()
        assert sorted(reasons) == ["credentials_replaced", "credentials_replaced"]


def test_pages_follow_the_api_reach_and_answer_one_404_for_hidden_and_missing(
    site: Practice,
) -> None:
    dana = full_plan(site.service, "dana")
    marcus = full_plan(site.service, "marcus")
    sign_in(site, "dana")
    caseload = site.client.get("/web/")
    assert str(dana["plan_id"]) in caseload.text
    assert str(marcus["plan_id"]) not in caseload.text
    hidden = site.client.get(f"/web/plans/{marcus['plan_id']}")
    unknown = uuid4()
    missing = site.client.get(f"/web/plans/{unknown}")
    malformed = site.client.get("/web/plans/not-a-plan")
    assert hidden.status_code == missing.status_code == malformed.status_code == 404
    # Only the address the caller typed differs (the emergency-access form names it).
    assert hidden.text == missing.text.replace(str(unknown), str(marcus["plan_id"])), (
        "another caseload's plan looks exactly like no plan"
    )
    for view in ("history", "findings"):
        assert site.client.get(f"/web/plans/{marcus['plan_id']}/{view}").status_code == 404
        assert site.client.get(f"/web/plans/{dana['plan_id']}/{view}").status_code == 200
    tries = site.access_log(plan_id=str(marcus["plan_id"]), user_id="dana-reyes")
    assert len(tries) == 3, "the plan page and its two views, each logged"
    assert {e["outcome"] for e in tries} == {"denied"}


def test_an_admin_reads_no_clinical_page(site: Practice) -> None:
    sign_in(site, "admin")
    refused = site.client.get("/web/")
    assert refused.status_code == 403
    assert "does not read clinical records" in refused.text


def test_each_page_view_is_one_access_log_record_under_the_page_route(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "sam")
    before = len(site.access_log())
    assert site.client.get(f"/web/plans/{plan['plan_id']}").status_code == 200
    [entry] = site.access_log()[before:]
    assert entry["route"] == "/web/plans/{plan_id}"
    assert entry["plan_id"] == str(plan["plan_id"])
    assert (entry["user_id"], entry["action"], entry["outcome"]) == (
        "sam-okafor",
        "view:plan",
        "ok",
    )
    assert site.client.get("/web/static/plantrail.css").status_code == 200
    assert len(site.access_log()) == before + 1, "style sheets are not records"
    assert site.verify_access_log()


def test_every_page_forbids_scripts_and_caching(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    for path in ("/web/", f"/web/plans/{plan['plan_id']}", SIGN_IN, "/web/plans/x"):
        response = site.client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src" not in policy, "no script source at all, inline or not"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"


def test_the_time_control_shows_the_chart_as_it_stood_and_as_in_effect(site: Practice) -> None:
    plan = full_plan(site.service)
    plan_id = plan["plan_id"]
    stood = site.clock.now
    site.clock.advance(days=10)
    site.service.execute(
        plan_id,
        c.ReviseObjective(objective_id=plan["objective"], statement="PHQ-9 below 8"),
        meta("dana", rationale="Faster progress than planned."),
    )
    sign_in(site, "dana")
    now = site.client.get(f"/web/plans/{plan_id}")
    assert "PHQ-9 below 8" in now.text
    assert "Current plan" in now.text
    then = site.client.get(
        f"/web/plans/{plan_id}", params={"as_of": (stood + timedelta(minutes=1)).isoformat()}
    )
    assert then.status_code == 200
    assert "PHQ-9 below 10" in then.text
    assert "PHQ-9 below 8" not in then.text
    assert "The chart as it stood at" in then.text
    assert f'href="/web/plans/{plan_id}">Show the current plan' in then.text
    effective = site.client.get(
        f"/web/plans/{plan_id}", params={"effective_on": stood.date().isoformat()}
    )
    assert "The plan in clinical effect on" in effective.text
    bad = site.client.get(f"/web/plans/{plan_id}", params={"as_of": "yesterday"})
    assert bad.status_code == 422
    assert "is not a date and time" in bad.text


def test_the_history_page_shows_each_rationale_and_an_open_request(site: Practice) -> None:
    plan = full_plan(site.service)
    revised = site.service.execute(
        plan["plan_id"],
        c.ReviseObjective(objective_id=plan["objective"], statement="PHQ-9 below 9"),
        meta("dana", rationale="Two points faster than planned."),
    )
    site.service.execute(
        plan["plan_id"],
        c.RecordRationale(
            text="Why tighten the target now?",
            explains_version=revised.version,
            kind="rationale_request",
        ),
        meta("sam"),
    )
    sign_in(site, "sam")
    history = site.client.get(f"/web/plans/{plan['plan_id']}/history")
    assert history.status_code == 200
    row = history.text.split(f'id="v{revised.version}"', 1)[1].split("</tr>", 1)[0]
    assert "Two points faster than planned." in row
    assert "Why tighten the target now?" in row
    assert "rationale requested" in row


class _Dom(HTMLParser):
    """What a browser would build: elements and their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]


HOSTILE = '<script>alert(1)</script>" onmouseover="alert(2)'


def test_every_user_entered_text_is_escaped(site: Practice) -> None:
    opened = site.service.open_plan(
        c.OpenPlan(
            client=c.ClientIn(id="MRN-666", name=f"Eve {HOSTILE}", date_of_birth="1990-01-01"),
            clinician=c.ClinicianIn(user_id="dana-reyes", name="Dana Reyes", credentials="LCSW"),
            plan_end_date=site.clock.now.date() + timedelta(days=200),
        ),
        meta("dana"),
    )
    plan_id = UUID(opened.plan_id)

    def run(command: Any, **fields: Any) -> str | None:
        return site.service.execute(plan_id, command, meta("dana", **fields)).item_id

    run(c.AddDiagnosis(code="F32.1", description=f"Depression {HOSTILE}", primary=True))
    problem = run(c.AddProblem(statement=f"Problem {HOSTILE}", diagnosis_codes=["F32.1"]))
    goal = run(c.AddGoal(statement=f"Goal {HOSTILE}", problem_ids=[problem], client_words=HOSTILE))
    objective = run(
        c.AddObjective.model_validate(
            {
                "goal_id": goal,
                "statement": f"Objective {HOSTILE}",
                "measure": {"instrument": f"Scale {HOSTILE}", "baseline": 2, "target": 1},
                "target_date": (site.clock.now.date() + timedelta(days=90)).isoformat(),
            }
        )
    )
    run(
        c.AddIntervention(
            modality=f"CBT {HOSTILE}", technique=HOSTILE, frequency=HOSTILE,
            objective_ids=[objective],
        )
    )  # fmt: skip
    run(c.NoteStrength(text=f"Strength {HOSTILE}"))
    run(c.NoteBarrier(text=f"Barrier {HOSTILE}"))
    run(c.SetDischargeCriteria(criteria=[f"Criterion {HOSTILE}"]))
    run(c.SetTimeline(estimated_sessions=12, session_frequency=f"weekly {HOSTILE}"))
    run(
        c.CaptureSignature(
            role="clinician", meaning="authored", signer_name=f"Dana {HOSTILE}",
            signer_credentials=HOSTILE, signer_id="dana-reyes",
        ),
        rationale=HOSTILE,
    )  # fmt: skip
    sign_in(site, "dana")
    for path in ("/web/", f"/web/plans/{plan_id}", f"/web/plans/{plan_id}/history",
                 f"/web/plans/{plan_id}/findings"):  # fmt: skip
        page = site.client.get(path)
        assert page.status_code == 200, path
        dom = _Dom()
        dom.feed(page.text)
        assert "script" not in dom.tags, path
        assert "onmouseover" not in dom.attributes, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path


def test_the_diff_page_highlights_words_and_names_items_by_label(site: Practice) -> None:
    plan = full_plan(site.service)
    revised = site.service.execute(
        plan["plan_id"],
        c.ReviseObjective(objective_id=plan["objective"], statement="PHQ-9 below 8 by summer"),
        meta("dana", rationale="Ahead of plan."),
    )
    sign_in(site, "sam")
    diff = site.client.get(
        f"/web/plans/{plan['plan_id']}/diff",
        params={"from": revised.version - 1, "to": revised.version},
    )
    assert diff.status_code == 200
    assert "Objective 1.1" in diff.text
    assert "objectives[" not in diff.text, "items by label, never by JSON path"
    assert "<del>10</del>" in diff.text
    assert "<ins>8 by summer</ins>" in diff.text
    default = site.client.get(f"/web/plans/{plan['plan_id']}/diff")
    assert "<ins>8 by summer</ins>" in default.text, "by default: the latest change"
    bad = site.client.get(f"/web/plans/{plan['plan_id']}/diff", params={"from": "last week"})
    assert bad.status_code == 422
    assert "must be a version number or an RFC 3339 instant" in bad.text


def test_the_verify_page_reports_the_chain_and_the_last_checkpoint(site: Practice) -> None:
    from plantrail.projections.integrity.checkpoint import sign_checkpoint, write_checkpoint
    from plantrail.projections.integrity.keys import load_keys

    plan = full_plan(site.service)
    sign_in(site, "alex")
    page = site.client.get(f"/web/plans/{plan['plan_id']}/verify")
    assert page.status_code == 200
    assert "intact" in page.text
    assert f"All {plan['version']} entries of this plan were checked" in page.text
    assert "No signed checkpoint yet" in page.text
    assert site.keys is not None
    keys = load_keys(site.keys)
    assert keys.signing_key is not None
    signed = sign_checkpoint(recorder_of(site.service).heads(), keys.signing_key)
    write_checkpoint(signed, site.keys.parent / "checkpoints")
    page = site.client.get(f"/web/plans/{plan['plan_id']}/verify")
    assert "matches" in page.text
    assert f"lists this plan at version {plan['version']}" in page.text
    site.service.execute(plan["plan_id"], c.NoteStrength(text="Keeps a mood diary"), meta("dana"))
    page = site.client.get(f"/web/plans/{plan['plan_id']}/verify")
    assert f"version {plan['version'] + 1} was written after it" in page.text


def _review(site: Practice, plan: dict[str, Any], summary: str, why: str | None = None) -> None:
    started = site.service.execute(plan["plan_id"], c.StartReview(reason="scheduled"), meta("dana"))
    site.service.execute(
        plan["plan_id"],
        c.CompleteReview(
            review_id=started.item_id,  # type: ignore[arg-type]
            assessments=[c.AssessmentIn(objective_id=plan["objective"], status="partially_met")],
            progress_summary=summary,
            continuation_reason=why,
        ),
        meta("dana"),
    )


def test_the_reviews_page_shows_verdicts_scores_and_a_chart(site: Practice) -> None:
    plan = full_plan(site.service)
    site.clock.advance(days=30)
    site.service.execute(
        plan["plan_id"],
        c.RecordMeasurement(
            instrument="PHQ-9",
            score=12,
            administered_on=site.clock.now.date(),
            objective_id=plan["objective"],
        ),
        meta("dana"),
    )
    _review(site, plan, "Some progress; continue.")
    site.clock.advance(days=90)
    _review(site, plan, "Some progress; continue.", "Gains hold at this dose of therapy")
    sign_in(site, "sam")
    reviews = site.client.get(f"/web/plans/{plan['plan_id']}/reviews")
    assert reviews.status_code == 200
    sections = {
        found.group(1): found.group(0)
        for found in re.finditer(r'<section class="card review".*?>\s*<h2[^>]*>(Review \d)'
                                 r".*?</section>", reviews.text, re.S)
    }  # fmt: skip
    assert set(sections) == {"Review 1", "Review 2"}
    assert "copied forward" in sections["Review 2"]
    assert "summary repeated" in sections["Review 2"]
    assert "copied forward" not in sections["Review 1"], "the first review changed statuses"
    assert "continuation reason): Gains hold at this dose of therapy" in sections["Review 2"]
    assert "continuation reason" not in sections["Review 1"]
    assert "12 (" in sections["Review 1"], "the score since the signed plan"
    dom = _Dom()
    dom.feed(reviews.text)
    assert "svg" in dom.tags, "the objective's scores as a chart, drawn on the server"
    assert "script" not in dom.tags


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields in ``html`` (a form, or a table row holding one)."""
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action``."""
    return hidden_fields(html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0])


def test_a_supervisor_co_signs_the_plan_as_it_stands_once(site: Practice) -> None:
    plan = full_plan(site.service)
    plan_id = plan["plan_id"]
    site.service.execute(
        plan_id,
        c.ReviseObjective(objective_id=plan["objective"], statement="PHQ-9 below 9"),
        meta("dana", rationale="Ahead of plan."),
    )  # Sam's approval now binds to superseded content
    sign_in(site, "sam")
    shown = site.client.get(f"/web/plans/{plan_id}")
    action = f"/web/plans/{plan_id}/co-signature"
    form = shown.text.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    # The clinician has not signed the revision the co-signature would bind to: the form says so.
    assert "Changes the clinician has not signed." in form
    label = site.service.load(plan_id).objectives[plan["objective"]].label
    assert label in form
    fields = _form_fields(shown.text, action)
    assert fields["version"] == str(site.service.load(plan_id).version)
    stale = site.client.post(action, data={**fields, "version": str(int(fields["version"]) - 1)})
    assert stale.status_code == 412, "the page showed an older plan than the chart holds"
    done = site.client.post(action, data=fields, follow_redirects=False)
    assert done.status_code == 303
    again = site.client.post(action, data=fields, follow_redirects=False)
    assert again.status_code == 303, "a double submit is the same request, answered again"
    state = site.service.load(plan_id)
    current = [s for s in state.signatures.values() if s.role == "supervisor"]
    assert len(current) == 2, "the superseded approval and one new one, not two"
    after = site.client.get(f"/web/plans/{plan_id}?signed=1")
    assert "Your co-signature is recorded." in after.text
    assert action not in after.text, "nothing left to co-sign"
    writes = [e for e in site.access_log() if e["action"] == "CaptureSignature"]
    assert [(e["route"], e["outcome"]) for e in writes] == [
        ("/web/plans/{plan_id}/co-signature", "rejected"),
        ("/web/plans/{plan_id}/co-signature", "ok"),
        ("/web/plans/{plan_id}/co-signature", "ok"),
    ]


def test_writes_from_pages_need_the_session_token_and_the_right_role(site: Practice) -> None:
    plan = full_plan(site.service)
    action = f"/web/plans/{plan['plan_id']}/co-signature"
    sign_in(site, "sam")
    forged = site.client.post(action, data={"version": str(plan["version"]), "csrf_token": "x"})
    assert forged.status_code == 403
    assert "not sent from your session" in forged.text
    site.client.cookies.clear()
    sign_in(site, "dana")
    home = site.client.get("/web/")
    refused = site.client.post(
        action, data={"version": str(plan["version"]), "csrf_token": csrf_of(home.text)}
    )
    assert refused.status_code == 403
    assert "cannot sign in the supervisor&#39;s role" in refused.text
    assert site.service.load(plan["plan_id"]).version == plan["version"], "nothing stored"


def test_a_supervisor_asks_why_and_the_clinician_answers_on_the_history(site: Practice) -> None:
    plan = full_plan(site.service)
    plan_id = plan["plan_id"]
    revised = site.service.execute(
        plan_id,
        c.ReviseObjective(objective_id=plan["objective"], statement="PHQ-9 below 9"),
        meta("dana", rationale="Ahead of plan."),
    )
    action = f"/web/plans/{plan_id}/notes"
    sign_in(site, "sam")
    history = site.client.get(f"/web/plans/{plan_id}/history")
    row = history.text.split(f'id="v{revised.version}"', 1)[1].split("</tr>", 1)[0]
    fields = hidden_fields(row)
    assert fields["explains_version"] == str(revised.version)
    asked = site.client.post(action, data={**fields, "text": "Why tighten it now?"})
    assert asked.status_code == 200
    site.client.cookies.clear()
    sign_in(site, "dana")
    history = site.client.get(f"/web/plans/{plan_id}/history")
    row = history.text.split(f'id="v{revised.version}"', 1)[1].split("</tr>", 1)[0]
    assert "rationale requested" in row
    fields = hidden_fields(row)
    answered = site.client.post(
        action, data={**fields, "text": "PHQ-9 fell four points in a month."}
    )
    assert answered.status_code == 200
    row = answered.text.split(f'id="v{revised.version}"', 1)[1].split("</tr>", 1)[0]
    assert "PHQ-9 fell four points in a month." in row
    assert "rationale requested" not in row
    kinds = [e.kind for e in site.service.events_of(plan_id) if isinstance(e, ev.RationaleRecorded)]
    assert kinds == ["rationale_request", "rationale"]


def test_a_password_set_with_users_passwd_signs_in_and_a_wrong_one_is_refused(
    site: Practice,
) -> None:
    accounts = site.app.state.plantrail.accounts
    accounts.set_password("dana-reyes", "correct horse battery")
    form = site.client.get(SIGN_IN)
    wrong = site.client.post(
        SIGN_IN,
        data={"guard": guard_of(form.text), "user_id": "dana-reyes", "password": "wrong horse"},
    )
    assert wrong.status_code == 401
    assert "That user id and password do not match an active user." in wrong.text
    signed = site.client.post(
        SIGN_IN,
        data={
            "guard": guard_of(wrong.text),  # each rendering of the form has its own guard
            "user_id": "dana-reyes",
            "password": "correct horse battery",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert site.client.get("/web/").status_code == 200
    posts = [e for e in site.access_log() if e["action"] == "web:sign-in" and e["method"] == "POST"]
    assert [(e["user_id"], e["outcome"]) for e in posts] == [
        (None, "unauthenticated"),
        ("dana-reyes", "ok"),
    ]


def test_the_caseload_findings_page_follows_reach_and_filters(site: Practice) -> None:
    full_plan(site.service, "dana", mrn="MRN-D1")
    full_plan(site.service, "marcus", mrn="MRN-M1")
    site.clock.advance(days=200)  # reviews overdue on both
    sign_in(site, "dana")
    report = site.client.get("/web/findings")
    assert report.status_code == 200
    assert "REVIEW_OVERDUE" in report.text
    assert report.text.count('/findings">Alex Moreno</a>') >= 1
    site.client.cookies.clear()
    sign_in(site, "alex")
    everyone = site.client.get("/web/findings", params={"code": "REVIEW_OVERDUE"})
    assert everyone.text.count('href="/web/plans/') == 2, "an auditor sees both plans"
    bad = site.client.get("/web/findings", params={"code": "NOPE"})
    assert bad.status_code == 422


def test_over_tls_the_session_cookie_is_secure(site: Practice) -> None:
    from tests.support.http import TestClient

    tls = TestClient(site.app, base_url="https://testserver")
    form = tls.get(SIGN_IN)
    assert "Secure" in form.headers["set-cookie"]
    signed = tls.post(
        SIGN_IN,
        data={"guard": guard_of(form.text), "token": site.tokens["dana"]},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert "Secure" in signed.headers["set-cookie"]
    plain = sign_in(site, "dana")
    assert "Secure" not in plain.headers["set-cookie"], "plain HTTP on localhost: no Secure"


def test_serve_hands_its_session_options_to_every_worker(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plantrail.api.server.app import app_from_env
    from plantrail.projections.integrity.keys import create_keys

    create_keys(tmp_path / "keys")
    monkeypatch.setenv("PLANTRAIL_DATABASE_URL", store_url)
    monkeypatch.setenv("PLANTRAIL_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("PLANTRAIL_SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("PLANTRAIL_SESSION_HOURS", "8")
    monkeypatch.setenv("PLANTRAIL_SECURE_COOKIES", "1")
    app = app_from_env()
    context = app.state.plantrail
    try:
        assert context.sessions.idle_us == 5 * 60 * 1_000_000
        assert context.sessions.absolute_us == 8 * 3600 * 1_000_000
        assert context.settings.secure_cookies is True
    finally:
        context.service.close()
        recorder_of(context.service).close()


def test_the_plan_and_reviews_pages_show_the_safety_plan_maintain_and_reopened(
    site: Practice,
) -> None:
    plan = full_plan(site.service)
    plan_id = plan["plan_id"]
    run = lambda command, **fields: site.service.execute(plan_id, command, meta("dana", **fields))  # noqa: E731
    run(
        c.SetSafetyPlan(
            warning_signs=["Stops answering texts"],
            coping_strategies=["Walk the dog"],
            contacts=[c.SafetyContactIn(name="988 Lifeline", kind="crisis_line", phone="988")],
            means_restriction=["Medication locked away"],
        ),
        rationale="Safety planning after disclosure",
    )
    keep = run(
        c.AddObjective(
            goal_id=plan["goal"],
            statement="PHQ-9 stays at 4 or below",
            measure={
                "instrument": "PHQ-9",
                "baseline": 3,
                "direction": "maintain",
                "threshold": 4,
                "keep": "at_most",
            },
        ),
        rationale="Relapse prevention",
    ).item_id
    run(
        c.MarkObjectiveStatus(objective_id=plan["objective"], status="met"),
        rationale="PHQ-9 of 6",
    )
    site.clock.advance(days=20)
    today = site.clock.now.date()
    run(c.RecordMeasurement(instrument="PHQ-9", score=9, administered_on=today, objective_id=keep))
    started = run(c.StartReview(reason="crisis"))
    run(
        c.CompleteReview(
            review_id=started.item_id,  # type: ignore[arg-type]
            assessments=[
                c.AssessmentIn(
                    objective_id=plan["objective"], status="not_met", rationale="Relapsed"
                ),
                c.AssessmentIn(objective_id=keep, status="not_met"),  # type: ignore[arg-type]
            ],
            progress_summary="Relapse after the layoff.",
        )
    )
    sign_in(site, "dana")
    page = site.client.get(f"/web/plans/{plan_id}")
    assert page.status_code == 200
    safety = page.text.split('id="h-safety"', 1)[1].split("</section>", 1)[0]
    assert "Stops answering texts" in safety
    assert "988 Lifeline (crisis line): 988" in safety
    assert "Medication locked away" in safety
    assert "keep at most 4" in page.text
    reviews = site.client.get(f"/web/plans/{plan_id}/reviews").text
    assert "reopened" in reviews
    assert "because Relapsed" in reviews
    assert "breached: Measurement" in reviews
    assert "mc-breach" in reviews, "the chart marks the breaching score"


def test_the_clinician_records_a_request_and_its_steps_from_the_plan_page(site: Practice) -> None:
    """The Amendment requests section (ADR 0012, 0015): forms through the API's command path
    (CSRF, If-Match, idempotency), and the statements shown next to the item they concern."""
    plan = full_plan(site.service)
    plan_id = plan["plan_id"]
    received = site.service.load(plan_id).effective_date.isoformat()
    site.service.execute(
        plan_id,
        c.RequestAmendment(
            concerns="The problem statement",
            item_ids=[plan["problem"]],
            requested_change="Say PHQ-9 of 12, not 16.",
            reason="The 16 was a bad day.",
            received_on=received,
            requested_by="Client",
        ),
        meta("dana"),
    )
    (aid,) = site.service.load(plan_id).amendments
    sign_in(site, "dana")
    shown = site.client.get(f"/web/plans/{plan_id}")
    assert 'id="h-amend"' in shown.text
    steps = [
        ("deny", {"denial_basis": "accurate_and_complete", "text": "The score was 16."}),
        ("disagreement", {"text": "I disagree: that day does not describe me."}),
        ("rebuttal", {"text": "The score is what the client reported that day."}),
    ]
    for step, fields in steps:
        action = f"/web/plans/{plan_id}/amendments/{aid}/{step}"
        hidden = _form_fields(shown.text, action)
        bad = site.client.post(action, data={**hidden, "text": ""})
        assert bad.status_code == 422, "an empty statement is refused, nothing stored"
        done = site.client.post(action, data={**hidden, **fields}, follow_redirects=False)
        assert done.status_code == 303, done.text
        shown = site.client.get(f"/web/plans/{plan_id}")
    amendment = site.service.load(plan_id).amendments[aid]
    assert amendment.status == "denied"
    assert amendment.rebuttal == "The score is what the client reported that day."
    problem = shown.text.split(f'id="item-{plan["problem"]}"', 1)[1].split("</article>", 1)[0]
    assert "Statement of disagreement:</strong> “I disagree: that day does not describe me.”" in (
        problem
    )
    assert "The score is what the client reported that day." in problem
    action = f"/web/plans/{plan_id}/amendments"
    hidden = _form_fields(shown.text, action)
    request = {
        "concerns": "Goal 1",
        "requested_change": "Add 'part-time'.",
        "reason": "I can only do part-time.",
        "received_on": received,
        "requested_by": "Client",
    }
    future = site.client.post(action, data={**hidden, **request, "received_on": "2999-01-01"})
    assert future.status_code == 422
    assert len(site.service.load(plan_id).amendments) == 1
    made = site.client.post(action, data={**hidden, **request}, follow_redirects=False)
    assert made.status_code == 303
    assert len(site.service.load(plan_id).amendments) == 2
    site.client.cookies.clear()
    sign_in(site, "sam")
    supervisor = site.client.get(f"/web/plans/{plan_id}")
    assert "I disagree: that day does not describe me." in supervisor.text
    assert f'action="{action}"' not in supervisor.text, "supervisors do not decide requests"
    refused = site.client.post(
        f"/web/plans/{plan_id}/amendments",
        data={**request, "csrf_token": csrf_of(supervisor.text), "version": "99"},
    )
    assert refused.status_code == 403


def test_the_clinician_extends_and_accepts_a_request_from_the_plan_page(site: Practice) -> None:
    """The one extension (with its written reason) on the page; the acceptance is a link to
    carrying the request out now."""
    plan = full_plan(site.service)
    plan_id = plan["plan_id"]
    received = site.clock.now.date()
    site.service.execute(
        plan_id,
        c.RequestAmendment(
            concerns="The problem statement", item_ids=[plan["problem"]],
            requested_change="Say PHQ-9 of 12, not 16.", reason="The 16 was a bad day.",
            received_on=received, requested_by="Client",
        ),
        meta("dana"),
    )  # fmt: skip
    (aid,) = site.service.load(plan_id).amendments
    sign_in(site, "dana")
    shown = site.client.get(f"/web/plans/{plan_id}")
    action = f"/web/plans/{plan_id}/amendments/{aid}/extend"
    hidden = _form_fields(shown.text, action)
    later = (received + timedelta(days=80)).isoformat()
    done = site.client.post(
        action, data={**hidden, "new_due_date": later, "text": "Records are off site."},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303, done.text
    assert site.service.load(plan_id).amendments[aid].extension_reason == "Records are off site."
    shown = site.client.get(f"/web/plans/{plan_id}")
    assert f'action="{action}"' not in shown.text, "one extension only"

    # Accepting is carrying it out now (tests/e2e/test_web_signing.py): the page links the
    # items' revision forms and never asks for a version number.
    assert f'href="/web/plans/{plan_id}/amendments/{aid}/carry-out"' in shown.text
    assert 'name="carried_out_in_version"' not in shown.text
    numeric = site.client.post(
        f"/web/plans/{plan_id}/amendments/{aid}/accept",
        data={**hidden, "carried_out_in_version": "3", "notified": "The client"},
    )  # fmt: skip
    assert numeric.status_code == 422  # the pages' numeric path is gone; the API keeps its own
    assert site.service.load(plan_id).amendments[aid].status == "open"
