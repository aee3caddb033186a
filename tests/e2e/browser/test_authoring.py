"""A clinician writes a whole plan in the pages, in a real Chromium, keyboard and mouse alike:
opens it for a new client, picks a diagnosis by search, adds a problem, a goal in the client's
words, two objectives measured by catalogue instruments, two interventions and a safety plan;
signs it; the client signs in session; scores are entered; a review that changes nothing is
stopped by the copy-forward prompt and completed with a stated reason; an objective is revised
with its rationale; a stale form is recovered from; the supervisor co-signs. Every form is
checked by axe-core (no serious or critical violation) and screenshotted (``docs/web.md``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browser.axe import describe, run_axe, serious_or_critical

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request, Response

    from tests.e2e.browser.conftest import WebServer

pytestmark = pytest.mark.slow

Shot = Callable[["Page", str], Path]


@dataclass
class Tally:
    """The page submissions a whole plan took, and the server's time for them."""

    submissions: int = 0
    server_seconds: float = 0.0
    axe: dict[str, int] = field(default_factory=dict)


def checked(page: Page, tally: Tally, name: str) -> None:
    violations = run_axe(page)
    blocking = serious_or_critical(violations)
    tally.axe[name] = len(blocking)
    assert blocking == [], f"{name} ({page.url}): {describe(violations)}"


def submit(page: Page, tally: Tally, button: str) -> Response:
    """Press the form's button and wait for the page it leads to; counts the submission and the
    server's time for it: from each request's start to its response's end, the POST and the
    page its redirect leads to (on 127.0.0.1 the network adds next to nothing)."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=button, exact=True).click()
    response = navigation.value
    assert response is not None
    response.finished()
    tally.submissions += 1
    request: Request | None = response.request
    while request is not None:
        timing = request.timing
        tally.server_seconds += max(timing["responseEnd"] - timing["requestStart"], 0) / 1000
        request = request.redirected_from
    return response


def report(tally: Tally) -> None:
    """The closing figures: written to ``$PLANTRAIL_AUTHORING_TALLY`` when set (docs/web.md)."""
    import json
    import os

    target = os.environ.get("PLANTRAIL_AUTHORING_TALLY")
    if target:
        Path(target).write_text(json.dumps({
            "submissions": tally.submissions,
            "server_seconds": round(tally.server_seconds, 3),
            "axe_serious_or_critical": tally.axe,
        }, indent=2))  # fmt: skip


def test_a_clinician_writes_a_whole_plan_in_the_pages(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    tally = Tally()
    page = signed_in("priya-shah")
    page.get_by_role("link", name="New plan").click()
    checked(page, tally, "open plan")
    screenshot(page, "author-open-plan")
    today = datetime.now(UTC).date()  # the server's clock: real time
    page.get_by_label("Client id (MRN)").fill("MRN-31337")
    page.get_by_label("Full name").fill("Jamie Ortiz")
    page.get_by_label("Date of birth").fill("1993-07-21")
    page.get_by_label("Plan end date").fill((today + timedelta(days=180)).isoformat())
    submit(page, tally, "Open the plan")
    assert page.get_by_role("heading", name=re.compile("Jamie Ortiz")).is_visible()
    plan_url = page.url.split("?")[0]

    # A diagnosis found by words as they are typed (code-search.js fills the list of codes).
    page.get_by_role("link", name="Add a diagnosis").click()
    page.get_by_label("Search codes and descriptions").press_sequentially("panic disorder")
    page.wait_for_function("document.querySelector('#f-code').options.length > 1")
    page.get_by_label(re.compile("^Code")).select_option("F41.0")
    page.get_by_label("The primary diagnosis").check()
    checked(page, tally, "add diagnosis")
    screenshot(page, "author-diagnosis")
    submit(page, tally, "Save")
    assert page.get_by_text("Panic disorder [episodic paroxysmal anxiety]").is_visible()

    # A problem, then a goal in the client's words.
    page.get_by_role("link", name="Add a problem").click()
    checked(page, tally, "add problem")
    page.get_by_label(re.compile("^Problem statement")).fill(
        "Panic attacks on the commute, about three a week since March; avoids the train"
    )
    page.get_by_role("checkbox", name=re.compile("F41.0")).check()
    submit(page, tally, "Save")
    page.get_by_role("link", name="Add a goal", exact=True).click()
    page.get_by_label(re.compile("^Goal")).fill("Travel to work by train without panic")
    page.get_by_label("In the client's own words").fill("I want my mornings back")
    page.get_by_role("checkbox", name=re.compile("Problem 1")).check()
    checked(page, tally, "add goal")
    submit(page, tally, "Save")

    # Two objectives from the catalogue; a target outside the range is refused at its field.
    page.get_by_role("link", name="Add an objective", exact=True).click()
    page.get_by_label(re.compile("^Objective")).fill("GAD-7 in the mild range")
    page.get_by_label("Instrument").select_option("GAD-7")
    page.get_by_label("Baseline score").fill("15")
    page.get_by_label("Target score").fill("30")
    page.get_by_label("Target date").fill((today + timedelta(days=120)).isoformat())
    response = submit(page, tally, "Save")
    assert response.status == 422
    assert page.get_by_text("target 30 is outside the GAD-7 range 0–21").first.is_visible()
    checked(page, tally, "objective refused")
    screenshot(page, "author-objective-error")
    page.get_by_label("Target score").fill("7")
    submit(page, tally, "Save")
    page.get_by_role("link", name="Add an objective", exact=True).click()
    page.get_by_label(re.compile("^Objective")).fill("Rides the train to work three days a week")
    page.get_by_label("Instrument").select_option("custom")
    page.locator("summary", has_text="A custom measure").click()
    page.get_by_label("Custom measure: its name").fill("train trips a week")
    page.get_by_label("Custom measure: lowest possible score").fill("0")
    page.get_by_label("Custom measure: highest possible score").fill("10")
    page.get_by_label("Which way is better").select_option("increase")
    page.get_by_label("Baseline score").fill("0")
    page.get_by_label("Target score").fill("3")
    screenshot(page, "author-objective")
    submit(page, tally, "Save")

    # Two interventions, each for its objective.
    for modality, technique, objective in (
        ("CBT", "Interoceptive exposure and cognitive restructuring of catastrophic "
         "misreadings of bodily sensations", "Objective 1.1"),
        ("Exposure", "Graded in-vivo exposure to the commute, from one stop to the whole "
         "journey", "Objective 1.2"),
    ):  # fmt: skip
        page.get_by_role("link", name="Add an intervention").click()
        page.get_by_label("Modality").fill(modality)
        page.get_by_label("Technique").fill(technique)
        page.get_by_label("Frequency").fill("weekly")
        page.get_by_role("checkbox", name=re.compile(objective)).check()
        submit(page, tally, "Save")
    checked(page, tally, "plan page")

    # The safety plan.
    page.get_by_role("link", name="Set the safety plan").click()
    page.get_by_label("Warning signs").fill("Chest tightness on the platform\nNot sleeping")
    page.get_by_label("Coping strategies").fill("Paced breathing, 4-6\nCall my sister")
    page.get_by_role("group", name="Contact 1").get_by_label("Name").fill("Ana Ortiz (sister)")
    page.get_by_role("group", name="Contact 1").get_by_label("Kind").select_option("support")
    page.get_by_role("group", name="Contact 2").get_by_label("Name").fill("988 Lifeline")
    page.get_by_role("group", name="Contact 2").get_by_label("Kind").select_option("crisis_line")
    page.get_by_role("group", name="Contact 2").get_by_label("Phone").fill("988")
    checked(page, tally, "safety plan")
    screenshot(page, "author-safety-plan")
    submit(page, tally, "Save")
    assert page.get_by_text("Chest tightness on the platform").is_visible()
    screenshot(page, "author-plan-written")
    assert page.url.startswith(plan_url)

    # The clinician signs: the plan takes effect.
    page.get_by_role("link", name="Sign the plan as its author").click()
    page.get_by_label("I attest").check()
    checked(page, tally, "sign")
    submit(page, tally, "Sign")
    assert page.locator(".sub .status").inner_text() == "active"

    # The client signs in session on the clinician's device, then hands it back.
    with page.expect_navigation():
        page.get_by_role("link", name="Hand this device to the client to sign").click()
    page.get_by_label("Your full name").fill("Jamie Ortiz")
    page.get_by_label("I have read this plan and agree to it").check()
    submit(page, tally, "Sign my plan")
    page.get_by_label("Or your API token").fill(web_server.token("priya-shah"))
    submit(page, tally, "Take the device back with the token")
    assert page.locator("table.signatures", has_text="Jamie Ortiz").count() == 1

    # A session's scores.
    page.get_by_role("link", name="Record a session's scores").click()
    page.get_by_role("group", name=re.compile("^Score 1")).get_by_label("Score", exact=True).fill(
        "14"
    )
    checked(page, tally, "scores")
    submit(page, tally, "Save the scores")
    assert page.locator("table.measurements", has_text="GAD-7").count() == 1

    # A review that changes nothing is stopped until the clinician says why.
    page.get_by_role("link", name="Start a review").click()
    submit(page, tally, "Start the review")
    page.get_by_role("link", name=re.compile("^Complete the review")).click()
    assert page.get_by_role("heading", name="This would be recorded as copied forward").is_visible()
    checked(page, tally, "complete review")
    page.get_by_label(re.compile("^Progress summary")).fill(
        "Two weeks of interoceptive exposure; GAD-7 15 to 14. Not yet on the train."
    )
    response = submit(page, tally, "Complete the review")
    assert response.status == 422
    assert page.locator("#f-continuation_reason-error").is_visible()
    screenshot(page, "author-review-prevented")
    page.get_by_label("Why continuing the plan unchanged is clinically right").fill(
        "Exposure began two weeks ago; the plan's targets and methods stay right until the "
        "first in-vivo steps are taken next month."
    )
    submit(page, tally, "Complete the review")
    assert page.locator("#h-rev").is_visible()
    page.goto(plan_url + "/reviews")
    assert page.get_by_text("Exposure began two weeks ago").first.is_visible()
    page.goto(plan_url)

    # An objective revised with its rationale; first without one (refused at the field).
    page.get_by_role("link", name="Revise Objective 1.2").click()
    page.get_by_label(re.compile("^Objective")).fill("Rides the train to work four days a week")
    page.locator("summary", has_text="A custom measure").click()
    page.get_by_label("Target score").fill("4")
    response = submit(page, tally, "Save")
    assert response.status == 422
    assert page.locator("#f-rationale-error").is_visible()
    checked(page, tally, "revision refused")
    page.get_by_label(re.compile("^Rationale")).fill("Three days reached early; four is next")
    submit(page, tally, "Save")
    assert page.get_by_text("Rides the train to work four days a week").is_visible()

    # A stale form: another tab notes a barrier while this one revises an intervention.
    page.get_by_role("link", name="Revise Intervention 2").click()
    other = page.context.new_page()
    other.goto(plan_url + "/write/add-barrier")
    other.get_by_label(re.compile("^Barrier")).fill("Works early shifts twice a week")
    with other.expect_navigation():
        other.get_by_role("button", name="Save", exact=True).click()
    other.close()
    page.get_by_label(re.compile("^Frequency")).fill("twice a week")
    page.get_by_label(re.compile("^Rationale")).fill("More practice before the next review")
    response = submit(page, tally, "Save")
    assert response.status == 412
    assert page.get_by_text("The plan changed while you wrote").is_visible()
    assert page.get_by_text(re.compile("Works early shifts")).is_visible()
    screenshot(page, "author-stale")
    assert page.get_by_label(re.compile("^Frequency")).input_value() == "twice a week"
    reapply = page.get_by_role("button", name=re.compile("^Reapply on version"))
    submit(page, tally, reapply.inner_text())
    assert page.get_by_text("(twice a week)").is_visible()

    # The plan's clinician asks the supervisor, who co-signs.
    page.get_by_role("link", name="Ask a supervisor to co-sign").click()
    submit(page, tally, "Ask for the co-signature")
    supervisor = signed_in("sam-okafor")
    supervisor.goto(plan_url)
    submit(supervisor, tally, "Co-sign as approved")
    assert supervisor.get_by_text("Your co-signature is recorded.").is_visible()
    report(tally)


ITEMS = {
    "problem_id": "problems",
    "goal_id": "goals",
    "objective_id": "objectives",
    "intervention_id": "interventions",
    "measurement_id": "measurements",
}


def test_every_authoring_form_passes_axe_and_works_from_the_keyboard(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    """Each form of the registry, opened on a demo plan at every item kind it revises."""
    import httpx

    from plantrail.api.web.authoring.specs import SPECS

    plan_id = str(next(p.plan_id for p in web_server.plans if p.client == "Riley Chen"))
    token = web_server.token("priya-shah")
    document = httpx.get(f"{web_server.base_url}/plans/{plan_id}",
                         headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    page = signed_in("priya-shah")
    # A review in progress, for the completion form.
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}/write/start-review")
    page.get_by_role("button", name="Start the review").click()
    page.wait_for_url(re.compile(r"/web/plans/[^/]+\?saved="))
    reread = httpx.get(f"{web_server.base_url}/plans/{plan_id}",
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    review = reread.json()["reviews"][-1]
    tally = Tally()
    for key, spec in sorted(SPECS.items()):
        if spec.item is None:
            item = None
        elif spec.item == "review_id":
            item = review["id"]
        elif spec.item == "code":
            item = document["diagnoses"][0]["code"]
        elif spec.item in ITEMS:
            item = document[ITEMS[spec.item]][0]["id"]
        else:  # a form for an item kind this test does not know yet: fail, never skip
            raise AssertionError(f"no demo item for {key} ({spec.item})")
        address = f"{web_server.base_url}/web/plans/{plan_id}/write/{key}"
        response = page.goto(address + (f"?item={item}" if item else ""))
        assert response is not None, key
        assert response.status == 200, f"{key}: {response.status}"
        checked(page, tally, key)
        screenshot(page, f"form-{key}")
        page.set_viewport_size({"width": 390, "height": 844})
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"{key} is {wide} px wide at a phone's 390 px"
        page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{web_server.base_url}/web/plans/new")
    checked(page, tally, "open-plan")
    assert sum(tally.axe.values()) == 0

    # Keyboard only: a strength noted with Tab, typing and Enter on the button.
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}/write/add-strength")
    page.keyboard.press("Tab")  # the skip link
    focused = ""
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        if focused == "f-text":
            break
    assert focused == "f-text", "the strength's text is reachable with Tab"
    page.keyboard.type("Plays in a weekly football league")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("Plays in a weekly football league").is_visible()


def test_the_forms_work_with_javascript_off(
    web_server: WebServer, signed_in: Callable[[str], Page]
) -> None:
    """The diagnosis search without code-search.js: the Search button asks the server."""
    page = signed_in("priya-shah")
    context = page.context.browser.new_context(
        java_script_enabled=False, base_url=web_server.base_url
    )  # type: ignore[union-attr]
    context.add_cookies(page.context.cookies())
    plain = context.new_page()
    plan_id = str(next(p.plan_id for p in web_server.plans if p.client == "Riley Chen"))
    plain.goto(f"{web_server.base_url}/web/plans/{plan_id}/write/add-diagnosis")
    plain.get_by_label("Search codes and descriptions").fill("insomnia due to medical")
    with plain.expect_navigation():
        plain.get_by_role("button", name="Search").click()
    options = plain.eval_on_selector_all("#f-code option", "o => o.map(x => x.value)")
    assert "G47.01" in options
    plain.get_by_label(re.compile("^Code")).select_option("G47.01")
    with plain.expect_navigation():
        plain.get_by_role("button", name="Save").click()
    assert plain.get_by_text("Insomnia due to medical condition").is_visible()
    context.close()


def test_the_verdict_follows_the_review_as_it_is_written(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    """copy-forward.js: a changed status asks the server again, without a button, and the
    verdict in the live region follows; the review is not stored by asking."""
    plan_id = str(next(p.plan_id for p in web_server.plans if p.client == "Noah Bennett"))
    page = signed_in("marcus-hill")
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}/write/start-review")
    with page.expect_navigation():
        page.get_by_role("button", name="Start the review").click()
    page.get_by_role("link", name=re.compile("^Complete the review")).click()
    live = page.locator("#verdict-live")
    assert live.get_by_role("heading", name="This would be recorded as copied forward").is_visible()
    page.get_by_label("Objective 1.1: status now").select_option("met")
    live.get_by_role("heading", name=re.compile("^What the record will say")).wait_for()
    assert live.get_attribute("aria-live") == "polite"
    screenshot(page, "author-review-live-check")
    page.get_by_label("Objective 1.1: status now").select_option("partially_met")
    live.get_by_role("heading", name="This would be recorded as copied forward").wait_for()
    assert page.locator(".sub .status, .crumbs .status").first.inner_text() == "active"
