"""The browser harness itself, independent of the web pages: the real app answers a real
Chromium on both stores, axe-core really runs in a page, screenshots are PNGs, and
``signed_in`` gets past the sign-in page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.browser.axe import describe, run_axe, serious_or_critical

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.e2e.browser.conftest import WebServer

pytestmark = pytest.mark.slow

LABELLED_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A labelled form</title></head>
<body><main><h1>Sign in</h1>
<form method="post" action="#">
  <label for="token">Token</label> <input id="token" name="token" type="password">
  <button type="submit">Sign in</button>
</form>
</main></body></html>"""


def data_url(html: str) -> str:
    return "data:text/html;charset=utf-8," + quote(html)


def test_the_app_serves_the_demo_caseload_to_chromium(
    web_server: WebServer, new_page: Callable[[], Page]
) -> None:
    assert web_server.db_url.startswith(web_server.backend)
    assert {u["role"] for u in web_server.users} >= {"clinician", "supervisor", "auditor"}
    plan = web_server.plans[0]
    clinician = next(u for u in web_server.users if u["name"] == plan.clinician)
    shown = httpx.get(
        f"{web_server.base_url}/plans/{plan.plan_id}",
        headers={"Authorization": f"Bearer {clinician['token']}"},
        timeout=10,
    )
    assert shown.status_code == 200, shown.text

    page = new_page()
    response = page.goto(f"{web_server.base_url}/docs")
    assert response is not None
    assert response.ok
    assert "plantrail" in page.title()


def test_axe_runs_in_a_page(new_page: Callable[[], Page]) -> None:
    page = new_page()
    page.goto(data_url(LABELLED_FORM))
    violations = run_axe(page)
    assert isinstance(violations, list)
    assert serious_or_critical(violations) == [], describe(violations)

    page.goto(data_url(LABELLED_FORM.replace("</main>", '<img src="chart.png"></main>')))
    violations = run_axe(page)
    assert "image-alt" in {v["id"] for v in serious_or_critical(violations)}, describe(violations)
    assert "image-alt" in describe(violations)


def test_screenshots_are_full_page_pngs(
    new_page: Callable[[], Page], screenshot: Callable[[Page, str], Path]
) -> None:
    page = new_page()
    page.goto(data_url(LABELLED_FORM.replace("</main>", '<p style="height:3000px"></p></main>')))
    path = screenshot(page, "harness-self-test")
    try:
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(path.read_bytes()[20:24], "big") > 3000  # the height: full page
    finally:
        path.unlink()  # never left in docs/, even with PLANTRAIL_SCREENSHOTS=1


def test_signed_in_gets_past_the_sign_in_page(
    web_server: WebServer, signed_in: Callable[[str], Page]
) -> None:
    page = signed_in("dana-reyes")
    assert "/web/sign-in" not in page.url
