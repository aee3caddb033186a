"""``/web/vocabulary/icd-10-cm``, the pages' copy of the diagnosis search: the JSON routes take a
bearer token only, so the picker script (``/web/static/code-search.js``) asks this one with the
session cookie."""

from __future__ import annotations

import re

from tests.support.http import Practice

PATH = "/web/vocabulary/icd-10-cm"


def sign_in(site: Practice, who: str) -> None:
    """Sign ``who`` in through the form, as a browser does (the session cookie is kept)."""
    form = site.client.get("/web/sign-in")
    guard = re.search(r'name="guard" value="([^"]+)"', form.text)
    assert guard, form.text
    answer = site.client.post(
        "/web/sign-in",
        data={"guard": guard.group(1), "token": site.tokens[who], "next": "/web/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def test_a_signed_in_reader_gets_the_same_json_as_the_api(running: Practice) -> None:
    sign_in(running, "dana")
    answer = running.client.get(PATH, params={"q": "generalized anx"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "query": "generalized anx",
        "codes": [{"code": "F41.1", "description": "Generalized anxiety disorder"}],
    }
    api = running.request("dana", "GET", "/vocabulary/icd-10-cm", params={"q": "generalized anx"})
    assert api.json() == answer.json()
    assert running.access_log()[-2]["action"] == "vocabulary:icd-10-cm"


def test_the_session_cookie_does_not_open_the_json_route(running: Practice) -> None:
    sign_in(running, "dana")
    assert running.client.get("/vocabulary/icd-10-cm", params={"q": "anxiety"}).status_code == 401


def test_without_a_session_it_sends_to_sign_in(running: Practice) -> None:
    answer = running.client.get(PATH, params={"q": "anxiety"}, follow_redirects=False)
    assert answer.status_code in (302, 303, 307)
    assert "/web/sign-in" in answer.headers["location"]


def test_bad_input_is_refused(running: Practice) -> None:
    sign_in(running, "dana")
    assert running.client.get(PATH, params={"q": "x" * 500}).status_code == 422
    assert running.client.get(PATH, params={"q": "anx\x07"}).status_code == 422


def test_an_admin_is_refused(running: Practice) -> None:
    sign_in(running, "admin")
    assert running.client.get(PATH, params={"q": "anxiety"}).status_code == 403


def test_the_picker_script_is_served(running: Practice) -> None:
    script = running.client.get("/web/static/code-search.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "data-code-search" in script.text
    assert "eval(" not in script.text
