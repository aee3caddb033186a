"""The web pages in a real Chromium, as each role uses them on the demo caseload: sign in, the
caseload with its badges and filters, a plan (now, as the chart stood, as in effect), its
history with rationale, its findings, another caseload's plan (404), sign out. axe-core runs on
every page (no serious or critical violation) and each page is screenshotted (into
``docs/web/screenshots`` with ``PLANTRAIL_SCREENSHOTS=1``)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browser.axe import describe, run_axe, serious_or_critical

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.e2e.browser.conftest import WebServer

pytestmark = pytest.mark.slow

Shot = Callable[["Page", str], Path]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "web" / "screenshots"


def accessible(page: Page) -> None:
    violations = run_axe(page)
    assert serious_or_critical(violations) == [], f"{page.url}: {describe(violations)}"


def plan_of(web_server: WebServer, client: str) -> str:
    return str(next(p.plan_id for p in web_server.plans if p.client == client))


def test_sign_in_page_and_a_wrong_token(
    web_server: WebServer, new_page: Callable[[], Page], screenshot: Shot
) -> None:
    page = new_page()
    page.goto(f"{web_server.base_url}/web/")
    assert "/web/sign-in" in page.url, "no session: to the sign-in page"
    assert page.get_by_label("API token or client key", exact=True).is_visible()
    accessible(page)
    screenshot(page, "sign-in")
    page.get_by_label("API token or client key", exact=True).fill("pt_wrong")
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.get_by_role("alert").inner_text() == (
        "That token is unknown, revoked, or its user is disabled."
    )


def test_a_supervisor_reads_the_caseload_a_plan_and_its_rationale(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    page = signed_in("sam-okafor")
    assert page.get_by_role("heading", name="Caseload").is_visible()
    rows = page.locator("table.caseload tbody tr")
    assert rows.count() == 7
    morgan = rows.filter(has_text="Morgan Lee")
    assert morgan.locator(".badge", has_text="overdue").count() == 1
    assert morgan.locator(".badge", has_text="copied forward").count() == 1
    riley = rows.filter(has_text="Riley Chen")
    assert "renewal" in riley.inner_text()
    accessible(page)
    screenshot(page, "caseload")

    page.get_by_label("Clinician").select_option(label="Priya Shah")
    page.get_by_role("button", name="Filter").click()
    assert {r.strip() for r in rows.locator("td:first-child a").all_inner_texts()} == {
        "Riley Chen",
        "Avery Patel",
        "Ella Novak",
    }
    page.locator("table.caseload thead").get_by_role("link", name="Findings").click()
    assert "sort=findings" in page.url

    page.goto(f"{web_server.base_url}/web/plans/{plan_of(web_server, 'Riley Chen')}")
    assert page.get_by_role("heading", name="Riley Chen").is_visible()
    assert "Current plan" in page.locator(".view-banner").inner_text()
    signatures = page.locator("table.signatures tbody tr")
    assert signatures.count() >= 2
    assert "superseded" in signatures.first.inner_text()
    assert "renew or discharge" in page.inner_text("main")
    accessible(page)
    screenshot(page, "plan")

    page.get_by_role("link", name="History and rationale").click()
    assert "delayed entry" in page.inner_text("table.history")
    revised = page.locator("table.history tr", has_text="target date changed")
    assert "rationale" in revised.first.inner_text()
    accessible(page)
    screenshot(page, "history")

    page.locator("nav.tabs").get_by_role("link", name="Findings").click()
    assert page.get_by_text("PLAN_RENEWAL_DUE").is_visible()
    accessible(page)
    screenshot(page, "findings")


def test_the_time_control_reconstructs_the_chart_and_links_back(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    plan_id = plan_of(web_server, "Riley Chen")
    # The demo is dated back from today: Riley's plan opens 290 days ago at 09:00 UTC.
    start = datetime.now(UTC).date() - timedelta(days=290)
    in_effect, late_score = start + timedelta(days=43), start + timedelta(days=42)
    page = signed_in("priya-shah")
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}")
    page.get_by_label("As the chart stood at (UTC)").fill(f"{start}T09:50")
    page.get_by_role("button", name="Show").click()
    banner = page.locator(".view-banner").inner_text()
    assert f"The chart as it stood at {start} 09:50 UTC" in banner
    assert "Not signed." in page.inner_text("main"), "the signatures came at 09:51"
    accessible(page)
    screenshot(page, "plan-as-of")
    page.get_by_role("link", name="Show the current plan").click()
    assert "Current plan" in page.locator(".view-banner").inner_text()

    page.get_by_label("In clinical effect on").fill(in_effect.isoformat())
    page.get_by_role("button", name="Show").click()
    assert (
        f"The plan in clinical effect on {in_effect}" in page.locator(".view-banner").inner_text()
    )
    measurements = page.locator("table.measurements").inner_text()
    assert "44" in measurements, f"the late-entered score of {late_score} is in effect"


def test_another_caseload_is_a_404_and_sign_out_ends_the_session(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    page = signed_in("dana-reyes")
    others = plan_of(web_server, "Morgan Lee")  # Marcus Hill's client
    answer = page.goto(f"{web_server.base_url}/web/plans/{others}")
    assert answer is not None
    assert answer.status == 404
    assert page.get_by_role("heading", name="Plan not found").is_visible()
    accessible(page)
    screenshot(page, "not-found")
    page.get_by_role("button", name="Sign out").click()
    assert "/web/sign-in" in page.url
    page.goto(f"{web_server.base_url}/web/")
    assert "/web/sign-in" in page.url, "signed out means signed out"


@pytest.mark.parametrize("user_id", ["alex-kim", "marcus-hill"])
def test_an_auditor_and_a_clinician_see_their_reach(
    web_server: WebServer, signed_in: Callable[[str], Page], user_id: str
) -> None:
    page = signed_in(user_id)
    rows = page.locator("table.caseload tbody tr")
    expected = 7 if user_id == "alex-kim" else 2  # Marcus: Morgan Lee and Noah Bennett
    assert rows.count() == expected
    page.locator("table.caseload tbody tr a").first.click()
    assert page.get_by_role("heading", level=1).is_visible()
    accessible(page)


def test_a_revision_opens_as_a_diff_and_the_chain_is_checked(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    page = signed_in("sam-okafor")
    page.goto(f"{web_server.base_url}/web/plans/{plan_of(web_server, 'Riley Chen')}/history")
    row = page.locator("table.history tr", has_text="statement changed").first
    row.get_by_role("link", name="diff").click()
    assert "/diff?from=" in page.url
    change = page.locator("section.change").first
    assert change.locator("del").count() >= 1
    assert change.locator("ins").count() >= 1
    assert "Objective 1.2" in change.inner_text()
    accessible(page)
    screenshot(page, "diff")

    page.locator("nav.tabs").get_by_role("link", name="Integrity").click()
    checked = page.inner_text("main")
    assert "intact" in checked
    assert "lists this plan at version" in checked, "serve --demo signs a first checkpoint"
    accessible(page)
    screenshot(page, "verify")


def test_the_reviews_show_a_copied_forward_streak_and_score_charts(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    page = signed_in("sam-okafor")
    page.goto(f"{web_server.base_url}/web/plans/{plan_of(web_server, 'Morgan Lee')}/reviews")
    reviews = page.locator("section.review")
    assert reviews.count() == 3
    # Review 1 only added "daily" to an objective: nearly copied forward; Reviews 2 and 3 copied.
    assert reviews.locator(".badge", has_text="nearly copied forward").count() == 1
    assert reviews.locator(".badge", has_text="copied forward").count() == 3
    assert reviews.locator(".badge", has_text="summary repeated").count() >= 1
    charts = page.locator("figure.measure-chart svg[role=img]")
    assert charts.count() >= 1
    assert charts.first.bounding_box() is not None
    accessible(page)
    screenshot(page, "reviews")


def test_a_supervisor_co_signs_and_a_clinician_answers_a_request(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    plan_id = plan_of(web_server, "Casey Brooks")  # Dana Reyes's client, supervised by Sam
    page = signed_in("sam-okafor")
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}/history")
    ask = page.locator("form.note-form").first
    asked_version = ask.locator("input[name=explains_version]").get_attribute("value")
    ask.locator("textarea").fill("What made the change necessary now?")
    ask.get_by_role("button", name="Request a rationale").click()
    row = page.locator(f"tr#v{asked_version}")
    assert "rationale requested" in row.inner_text()
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}")
    # The demo plan has no current supervisor approval (its signatures are all superseded).
    page.get_by_role("button", name="Co-sign as approved").click()
    assert page.get_by_role("status").inner_text() == "Your co-signature is recorded."
    assert page.get_by_role("button", name="Co-sign as approved").count() == 0
    assert "Sam Okafor" in page.locator("table.signatures").inner_text()
    accessible(page)
    screenshot(page, "plan-co-signed")

    page = signed_in("dana-reyes")
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}/history")
    row = page.locator(f"tr#v{asked_version}")
    row.locator("textarea").fill("The client asked to move sessions after a shift change.")
    row.get_by_role("button", name="Add the rationale").click()
    row = page.locator(f"tr#v{asked_version}")
    assert "The client asked to move sessions after a shift change." in row.inner_text()
    assert "rationale requested" not in row.inner_text()
    accessible(page)
    screenshot(page, "history-answered")


def test_the_caseload_findings_page_and_password_sign_in(
    web_server: WebServer, new_page: Callable[[], Page], screenshot: Shot
) -> None:
    from plantrail.projections.access.accounts import Accounts
    from plantrail.projections.store.engine import create_store_engine

    engine = create_store_engine(web_server.db_url)
    try:
        Accounts(engine).set_password("alex-kim", "correct horse battery")
    finally:
        engine.dispose()
    page = new_page()
    page.goto(f"{web_server.base_url}/web/sign-in")
    page.get_by_label("User id").fill("alex-kim")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Sign in with password").click()
    assert "/web/sign-in" not in page.url
    page.locator("header.site").get_by_role("link", name="Findings").click()
    assert page.get_by_role("heading", name="Findings across the caseload").is_visible()
    assert page.locator("table.findings-report tbody tr").count() >= 5
    page.get_by_label("Finding", exact=True).select_option("PLAN_RENEWAL_DUE")
    page.get_by_role("button", name="Filter").click()
    clients = page.locator("table.findings-report tbody tr td:first-child").all_inner_texts()
    assert [c.strip() for c in clients] == ["Riley Chen"]
    accessible(page)
    screenshot(page, "caseload-findings")


# A4 is 595.3 × 841.9 points, which Chromium writes as 595.9 × 842.9.
@pytest.mark.parametrize(("paper", "points"), [("Letter", (612, 792)), ("A4", (596, 843))])
def test_a_plan_prints_cleanly_on_letter_and_a4(
    web_server: WebServer,
    signed_in: Callable[[str], Page],
    tmp_path: Path,
    paper: str,
    points: tuple[int, int],
) -> None:
    page = signed_in("alex-kim")
    page.goto(f"{web_server.base_url}/web/plans/{plan_of(web_server, 'Riley Chen')}")
    page.emulate_media(media="print")
    for screen_only in ("header.site", "nav.tabs", "form.time-control", "footer.site"):
        assert not page.locator(screen_only).is_visible(), f"{screen_only} is not printed"
    assert page.locator(".view-banner").is_visible(), "the print says which view it is"
    assert page.get_by_role("heading", name="Signatures").is_visible()
    pdf = page.pdf(format=paper, print_background=True)
    path = tmp_path / f"plan-{paper}.pdf"
    path.write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    boxes = {
        tuple(round(float(v)) for v in found.split()[2:4])
        for found in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", pdf)
    }
    assert boxes == {points}, f"every page is {paper}"
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 2 <= pages <= 8, f"{pages} pages of {paper}"
    screenshot_pdf = os.environ.get("PLANTRAIL_SCREENSHOTS") == "1"
    if screenshot_pdf:
        (SCREENSHOTS / f"plan-{paper}.pdf").write_bytes(pdf)


def test_an_admin_signs_in_and_reads_no_clinical_page(
    web_server: WebServer, signed_in: Callable[[str], Page]
) -> None:
    page = signed_in("admin")
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert "does not read clinical records" in page.inner_text("main")
    answer = page.goto(f"{web_server.base_url}/web/plans/{plan_of(web_server, 'Riley Chen')}")
    assert answer is not None
    assert answer.status == 403
    accessible(page)


def test_an_auditor_generates_the_packet_from_the_plans_tab(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    page = signed_in("alex-kim")
    page.goto(f"{web_server.base_url}/web/plans/{plan_of(web_server, 'Riley Chen')}")
    page.locator("nav.tabs").get_by_role("link", name="Audit packet").click()
    assert page.get_by_label("First date of service").input_value(), "a default period"
    last = page.get_by_label("Last date of service").input_value()
    page.get_by_label("Dates of service the auditor listed").fill(f"{last} 90837")
    accessible(page)
    screenshot(page, "packet")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    page.get_by_role("button", name="Read it as a page").click()
    text = page.inner_text("main")
    assert "Riley Chen" in text
    assert "90837" in text, "the listed date of service is answered"
    assert "sha256:" in text
    accessible(page)


def _client_link(web_server: WebServer, plan_id: str) -> dict[str, str]:
    """A client access link issued by the plan's clinician over the API."""
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{web_server.base_url}/plans/{plan_id}/client-access",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {web_server.token('dana-reyes')}",
                 "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request) as answer:
        found: dict[str, str] = json.loads(answer.read())
    return found


def test_a_client_opens_their_link_and_signs_their_plan(
    web_server: WebServer, new_page: Callable[[], Page], screenshot: Shot
) -> None:
    link = _client_link(web_server, plan_of(web_server, "Jordan Ellis"))
    page = new_page()
    page.goto(f"{web_server.base_url}{link['sign_in_path']}")
    accessible(page)
    # the page's script moved the key from the fragment into the form, out of the address bar
    assert "key=" not in page.url
    assert page.locator("#token").input_value() == link["token"]
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: url.endswith("/web/client"))
    assert page.get_by_role("heading", name="Your treatment plan").is_visible()
    assert page.get_by_role("link", name="Caseload").count() == 0
    assert page.get_by_role("heading", name="Your safety plan").is_visible()  # Jordan's has one
    accessible(page)
    screenshot(page, "client-plan")
    page.get_by_label("I have read this plan and I agree with it").check()
    page.get_by_role("button", name="Sign my plan").click()
    assert page.get_by_role("status").inner_text() == "Thank you: your signature is recorded."
    assert page.locator("table.signatures", has_text="client, agreed").count() == 1
    page.get_by_role("link", name="Who has seen your plan").first.click()
    assert page.get_by_role("heading", name="Who has seen your plan").is_visible()
    accessible(page)
    screenshot(page, "client-disclosures")


def test_a_clinician_reads_another_caseloads_plan_in_an_emergency(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    page = signed_in("marcus-hill")
    page.goto(f"{web_server.base_url}/web/plans/{plan_of(web_server, 'Jordan Ellis')}")
    assert page.get_by_role("heading", name="Emergency access (break-glass)").is_visible()
    accessible(page)
    page.get_by_label("Why you need this plan now").fill(
        "Client in crisis at the front desk; covering for Dana tonight"
    )
    page.get_by_role("button", name="Read the plan in an emergency").click()
    assert page.get_by_role("heading", name="Jordan Ellis").is_visible()
    banner = page.get_by_role("alert")
    assert "Emergency (break-glass) read" in banner.inner_text()
    accessible(page)
    screenshot(page, "plan-break-glass")


def test_a_denied_request_with_its_statements_and_a_new_request_recorded(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    """Jordan Ellis's demo request (denied, with a statement of disagreement and a rebuttal)
    next to the items it concerns and in the Amendment requests section; Dana records a new
    request and denies it through the forms."""
    from datetime import UTC, datetime

    plan_id = plan_of(web_server, "Jordan Ellis")
    page = signed_in("dana-reyes")
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}")
    notes = page.locator(".amendment-note")
    assert notes.count() == 2, "next to the diagnosis and the problem it concerns"
    assert "I disagree. In 2019 I was grieving my father" in notes.first.inner_text()
    section = page.locator("section[aria-labelledby=h-amend]")
    assert "Bereavement was considered at intake" in section.inner_text()
    form = page.locator("form.amendment-request")
    form.get_by_label("What it concerns").fill("Goal 1")
    form.get_by_label("Requested change").fill("Add 'part-time' to the return to work.")
    form.get_by_label("Reason, in the client's words").fill("Full-time is not realistic yet.")
    form.get_by_label("Received on").fill(datetime.now(UTC).date().isoformat())
    form.get_by_label("Requested by").fill("Jordan Ellis (client)")
    form.get_by_role("button", name="Record the request").click()
    second = page.locator("article.amendment").nth(1)
    assert "Amendment request 2" in second.inner_text()
    assert "open" in second.inner_text()
    second.get_by_label("Written denial").fill("The goal already allows a graded return.")
    second.get_by_role("button", name="Deny the request").click()
    second = page.locator("article.amendment").nth(1)
    assert "The goal already allows a graded return." in second.inner_text()
    assert second.get_by_label("The client's statement of disagreement, in their words").count()
    accessible(page)
    screenshot(page, "plan-amendments")
