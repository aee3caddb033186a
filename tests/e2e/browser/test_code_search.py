"""``/web/static/code-search.js`` in Chromium: the diagnosis search as you type, with the
session cookie, as a list (ARIA listbox picked with the keyboard) and as a ``<select>``.

The diagnosis form itself is driven in ``test_authoring.py``; here each test writes a small
form of either shape into a signed-in page of the app's own origin and loads the script from
``/web/static``, as the form does."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

LIST_FORM = """
<form method="get" action="/web/">
  <fieldset>
    <legend>Diagnosis</legend>
    <label for="code_search">Search codes</label>
    <input id="code_search" name="code_search" data-code-search="/web/vocabulary/icd-10-cm">
    <ul data-code-results></ul>
  </fieldset>
</form>
"""

SELECT_FORM = """
<form method="get" action="/web/">
  <fieldset>
    <legend>Diagnosis</legend>
    <label for="code_search">Search codes</label>
    <input id="code_search" name="code_search" data-code-search="/web/vocabulary/icd-10-cm">
    <label for="code">Code</label>
    <select id="code" name="code" data-code-results></select>
    <p data-code-status></p>
  </fieldset>
</form>
"""


def form_page(signed_in: Callable[[str], Page], html: str) -> Page:
    page = signed_in("dana-reyes")
    page.evaluate("html => { document.body.innerHTML = html; }", html)
    page.add_script_tag(url="/web/static/code-search.js")
    return page


def test_a_list_becomes_a_listbox_picked_with_the_keyboard(
    signed_in: Callable[[str], Page],
) -> None:
    page = form_page(signed_in, LIST_FORM)
    field = page.locator("#code_search")
    assert field.get_attribute("role") == "combobox"
    assert field.get_attribute("aria-expanded") == "false"
    field.press_sequentially("generalized anx")
    option = page.locator("[role=listbox] [role=option]")
    option.first.wait_for()
    assert option.all_inner_texts() == ["F41.1 — Generalized anxiety disorder"]
    assert page.locator("[role=status]").inner_text() == "1 code found"
    assert page.locator("[role=status]").get_attribute("aria-live") == "polite"
    assert field.get_attribute("aria-expanded") == "true"
    field.press("ArrowDown")
    assert field.get_attribute("aria-activedescendant") == option.first.get_attribute("id")
    assert option.first.get_attribute("aria-selected") == "true"
    field.press("Enter")  # picks the code; the form is not sent
    assert field.input_value() == "F41.1"
    assert "code_search" not in page.url
    assert field.get_attribute("aria-expanded") == "false"


def test_a_select_is_filled_with_the_codes_found(signed_in: Callable[[str], Page]) -> None:
    page = form_page(signed_in, SELECT_FORM)
    page.locator("#code_search").press_sequentially("F41")
    page.wait_for_function("document.querySelector('#code').options.length > 0")
    values = page.eval_on_selector_all("#code option", "options => options.map(o => o.value)")
    assert values == ["F41.0", "F41.1", "F41.3", "F41.8", "F41.9"]
    assert page.locator("[data-code-status]").inner_text() == "5 codes found"


def test_one_character_asks_nothing_and_shows_nothing(signed_in: Callable[[str], Page]) -> None:
    page = form_page(signed_in, LIST_FORM)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.locator("#code_search").press_sequentially("F")
    page.wait_for_timeout(500)
    assert not [url for url in asked if "vocabulary" in url]
    assert page.locator("[role=option]").count() == 0
