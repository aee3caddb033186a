"""The clinician's signing and scores pages in a real Chromium, keyboard and screen widths
included: the hand-over screen a client reads and signs on the clinician's device (at 1280 px
and at a phone's 390 px), the scores form and the attestation. axe-core runs on every page (no
serious or critical violation); each page is screenshotted (into ``docs/web/screenshots`` with
``PLANTRAIL_SCREENSHOTS=1``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browser.test_pages import accessible, plan_of

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.e2e.browser.conftest import WebServer

pytestmark = pytest.mark.slow

Shot = Callable[["Page", str], Path]
PHONE = {"width": 390, "height": 844}


def test_the_client_signs_on_the_clinicians_device_at_phone_width(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    plan_id = plan_of(web_server, "Casey Brooks")
    page = signed_in("dana-reyes")
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}")
    page.get_by_role("link", name="Hand this device to the client to sign").click()
    assert page.get_by_role("heading", name="Your treatment plan", exact=True).is_visible()
    assert page.get_by_role("link", name="Caseload").count() == 0
    accessible(page)
    screenshot(page, "hand-over")
    page.set_viewport_size(PHONE)
    # nothing is wider than the phone's screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    accessible(page)
    screenshot(page, "hand-over-390")
    # every other page shows the hand-over screen
    page.goto(f"{web_server.base_url}/web/")
    assert page.url.endswith(f"/web/plans/{plan_id}/hand-over")
    # keyboard only: type the name, tick, sign
    page.get_by_label("Your full name").focus()
    page.keyboard.type("Casey Brooks")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.get_by_label("I have read this plan and agree to it").is_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith("hand-over?signed=1"))
    assert page.get_by_role("heading", name="Thank you. Please hand the device back.").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    accessible(page)
    screenshot(page, "hand-over-thanks-390")
    page.get_by_label("Or your API token").fill("pt_0123456789abcdef_wrong")
    page.get_by_role("button", name="Take the device back with the token").click()
    assert "That token is unknown" in page.get_by_role("alert").inner_text()
    page.get_by_label("Or your API token").fill(web_server.token("dana-reyes"))
    page.get_by_role("button", name="Take the device back with the token").click()
    page.wait_for_url(lambda url: url.endswith(f"/web/plans/{plan_id}#h-sig"))
    assert page.locator("table.signatures", has_text="Casey Brooks").count() == 1


def test_the_scores_form_and_the_attestation(
    web_server: WebServer, signed_in: Callable[[str], Page], screenshot: Shot
) -> None:
    plan_id = plan_of(web_server, "Jordan Ellis")
    page = signed_in("dana-reyes")
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}")
    accessible(page)
    screenshot(page, "plan-clinician")
    page.get_by_role("link", name="Record a session's scores").click()
    accessible(page)
    screenshot(page, "record-scores")
    page.get_by_label("Score", exact=True).first.fill("40")
    page.get_by_role("button", name="Save the scores").click()
    assert page.locator(".error-summary").is_visible()
    accessible(page)
    page.set_viewport_size(PHONE)
    screenshot(page, "record-scores-error-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{web_server.base_url}/web/plans/{plan_id}/write/sign")
    assert page.locator("#attestation").inner_text().startswith("I, Dana Reyes, LCSW, authored")
    accessible(page)
    screenshot(page, "sign")
