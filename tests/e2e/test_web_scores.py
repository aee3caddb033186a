"""A session's scores and voiding a score, over HTTP as a browser without JavaScript sends
them, on SQLite and PostgreSQL: every filled row is one ``RecordMeasurement`` sent through the
command path with If-Match chained and keys ``<form id>:<row>``; every row is checked before the
first is sent; a void needs its reason whatever the plan's status."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_web_authoring import open_form, version_of
from tests.e2e.test_web_pages import sign_in
from tests.support.http import Practice, practice
from tests.support.plans import full_plan


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


def test_the_form_has_a_row_for_each_instrument_the_objectives_use(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    form = site.client.get(f"/web/plans/{plan['plan_id']}/write/record-scores")
    assert form.status_code == 200
    assert "<legend>Score 1: PHQ-9</legend>" in form.text
    assert "<legend>Score 2: any measure</legend>" in form.text
    assert "<legend>Score 3: any measure</legend>" in form.text
    assert "Score 4" not in form.text
    today = site.clock.now.date().isoformat()
    assert f'name="administered_on" type="date" value="{today}"' in form.text
    # the only objective measured by the PHQ-9 is chosen in its row
    row = re.search(r'name="scores.0.objective_id".*?</select>', form.text, re.S)
    assert row
    assert f'value="{plan["objective"]}" selected' in row.group(0)


def test_a_session_of_scores_is_stored_once_on_a_double_submit(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "record-scores")
    data = {
        **base, "administered_on": site.clock.now.date().isoformat(),
        "scores.0.instrument": "PHQ-9", "scores.0.score": "12",
        "scores.0.objective_id": plan["objective"],
        "scores.1.instrument": "GAD-7", "scores.1.score": "9",
        "scores.2.custom": "Panic attacks a week", "scores.2.score": "3",
    }  # fmt: skip
    first = site.client.post(address, data=data, follow_redirects=False)
    again = site.client.post(address, data=data, follow_redirects=False)
    assert (first.status_code, again.status_code) == (303, 303), first.text
    state = site.service.load(plan["plan_id"])
    assert state.version == plan["version"] + 3
    recorded = sorted(
        (m.instrument, m.score, m.objective_id)
        for m in state.measurements.values()
        if m.id != plan["measurement"]
    )
    assert recorded == [
        ("GAD-7", 9, None),
        ("PHQ-9", 12, plan["objective"]),
        ("Panic attacks a week", 3, None),
    ]


def test_a_bad_row_stores_nothing_and_is_named_at_its_score(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "record-scores")
    sent = site.client.post(
        address,
        data={**base, "administered_on": site.clock.now.date().isoformat(),
              "scores.0.instrument": "PHQ-9", "scores.0.score": "12",
              "scores.1.instrument": "GAD-7", "scores.1.score": "30"},
    )  # fmt: skip
    assert sent.status_code == 422
    message = re.search(r'id="f-scores-1-score-error">(.*?)</p>', sent.text, re.S)
    assert message, sent.text
    assert "outside the GAD-7 range 0–21" in message.group(1)
    assert 'id="f-scores-0-score-error"' not in sent.text
    assert 'href="#f-scores-1-score"' in sent.text  # the error summary links to it
    assert 'value="30"' in sent.text  # what was typed is kept
    assert version_of(site, plan["plan_id"]) == plan["version"]


def test_a_row_refused_by_the_engine_after_saved_rows_says_which_were_saved(
    site: Practice,
) -> None:
    """The form checks the catalogue's ranges; an objective's own stated range is the engine's
    to check, so a later row can be refused after the earlier ones were stored."""
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "record-scores")
    sent = site.client.post(
        address,
        data={**base, "administered_on": site.clock.now.date().isoformat(),
              "scores.0.instrument": "PHQ-9", "scores.0.score": "12",
              "scores.1.instrument": "PHQ-9", "scores.1.score": "11",
              "scores.1.objective_id": "no-such-objective"},
    )  # fmt: skip
    assert sent.status_code == 409, sent.text
    assert "Saved: row 1. Not saved: row 2" in sent.text
    assert 'id="f-scores-1-objective_id-error"' in sent.text
    assert version_of(site, plan["plan_id"]) == plan["version"] + 1


def test_an_empty_form_asks_for_a_score(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "record-scores")
    sent = site.client.post(address, data={**base, "administered_on": "2026-01-01"})
    assert sent.status_code == 422
    assert "enter at least one score" in sent.text
    assert version_of(site, plan["plan_id"]) == plan["version"]


def test_voiding_a_score_needs_a_reason(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "void-score", plan["measurement"])
    refused = site.client.post(address, data={**base, "rationale": "  "})
    assert refused.status_code == 422
    assert 'id="f-rationale-error"' in refused.text
    assert "give the reason this score is void" in refused.text
    assert version_of(site, plan["plan_id"]) == plan["version"]
    done = site.client.post(
        address, data={**base, "rationale": "Scored for the wrong client"}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    state = site.service.load(plan["plan_id"])
    assert state.measurements[plan["measurement"]].voided_version == plan["version"] + 1
    assert site.service.events_of(plan["plan_id"])[-1].rationale == "Scored for the wrong client"


def test_the_plan_page_links_the_forms_for_its_own_clinician_only(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    page = site.client.get(f"/web/plans/{plan['plan_id']}").text
    base = f"/web/plans/{plan['plan_id']}/write"
    assert f'href="{base}/record-scores"' in page
    assert f'href="{base}/void-score?item={plan["measurement"]}"' in page
    assert f'href="{base}/discharge"' in page
    past = site.client.get(f"/web/plans/{plan['plan_id']}?effective_on={site.clock.now.date()}")
    assert f'href="{base}/record-scores"' not in past.text
    site.client.cookies.clear()
    sign_in(site, "sam")
    assert (
        f'href="{base}/record-scores"' not in site.client.get(f"/web/plans/{plan['plan_id']}").text
    )


def test_voiding_a_score_on_a_draft_needs_a_reason_too(site: Practice) -> None:
    """The engine asks a rationale on an active plan only; the form asks it always."""
    plan = full_plan(site.service, signed=False)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "void-score", plan["measurement"])
    refused = site.client.post(address, data=base)
    assert refused.status_code == 422
    assert 'id="f-rationale-error"' in refused.text
    assert version_of(site, plan["plan_id"]) == plan["version"]
