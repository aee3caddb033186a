"""The clinician's authoring forms over HTTP, as a browser without JavaScript sends them, on
SQLite and PostgreSQL: each change goes through the command path (the plan's version as
If-Match, the form's id as the idempotency key), a refusal keeps what was typed and names the
field, a stale form shows what changed and offers to reapply, and nothing is stored on error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.e2e.test_web_pages import csrf_of, sign_in
from tests.support.http import Practice, practice
from tests.support.plans import full_plan


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} in the form"
    return found.group(1)


def open_form(
    site: Practice, plan_id: Any, key: str, item: str | None = None
) -> tuple[str, dict[str, str]]:
    address = f"/web/plans/{plan_id}/write/{key}" + (f"?item={item}" if item else "")
    form = site.client.get(address)
    assert form.status_code == 200, form.text
    return address, {
        "csrf_token": csrf_of(form.text),
        "form_id": hidden(form.text, "form_id"),
        "version": hidden(form.text, "version"),
    }


def version_of(site: Practice, plan_id: Any) -> int:
    return site.service.load(UUID(str(plan_id))).version


def test_a_problem_added_in_the_form_is_on_the_plan(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "add-problem")
    sent = site.client.post(
        address,
        data={**base, "statement": "Panic attacks on the commute, about three a week",
              "diagnosis_codes": "F32.1"},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    state = site.service.load(plan["plan_id"])
    [added] = [p for p in state.problems.values() if p.statement.startswith("Panic")]
    assert added.diagnosis_codes == ["F32.1"]
    assert sent.headers["location"].endswith(f"#item-{added.id}")


def test_a_double_submit_stores_once(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "add-strength")
    data = {**base, "text": "Walks the dog every morning"}
    first = site.client.post(address, data=data, follow_redirects=False)
    again = site.client.post(address, data=data, follow_redirects=False)
    assert (first.status_code, again.status_code) == (303, 303)
    state = site.service.load(plan["plan_id"])
    assert [s.text for s in state.strengths].count("Walks the dog every morning") == 1
    assert state.version == plan["version"] + 1


def test_a_revision_of_an_active_plan_without_rationale_is_refused_at_the_field(
    site: Practice,
) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "revise-objective", plan["objective"])
    sent = site.client.post(
        address,
        data={**base, "statement": "PHQ-9 below 8 for a month", "measure.instrument": "PHQ-9",
              "measure.direction": "decrease", "measure.baseline": "16", "measure.target": "9"},
    )  # fmt: skip
    assert sent.status_code == 422
    assert 'id="f-rationale-error"' in sent.text
    assert "is required to revise Objective 1.1" in sent.text
    assert "PHQ-9 below 8 for a month" in sent.text  # what was typed is kept
    assert version_of(site, plan["plan_id"]) == plan["version"]


def test_a_target_outside_the_instrument_range_is_refused_at_its_field(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "add-objective")
    sent = site.client.post(
        address,
        data={**base, "goal_id": plan["goal"], "statement": "GAD-7 down to a mild range",
              "measure.instrument": "GAD-7", "measure.direction": "decrease",
              "measure.baseline": "15", "measure.target": "30"},
    )  # fmt: skip
    assert sent.status_code == 422
    message = re.search(r'id="f-measure-target-error">(.*?)</p>', sent.text, re.S)
    assert message
    assert "outside the GAD-7 range 0–21" in message.group(1)
    assert version_of(site, plan["plan_id"]) == plan["version"]


def test_a_revision_sends_only_what_changed_with_its_rationale(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "revise-intervention", plan["intervention"])
    sent = site.client.post(
        address,
        data={**base, "modality": "CBT", "technique": "Behavioural activation with a weekly plan",
              "frequency": "weekly", "objective_ids": plan["objective"],
              "rationale": "Activation stalled without a written plan",
              "entry_kind": "original", "effective_date": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    events = site.service.events_of(plan["plan_id"])
    last = events[-1]
    assert type(last).__name__ == "InterventionRevised"
    assert last.technique == "Behavioural activation with a weekly plan"  # type: ignore[attr-defined]
    assert last.modality is None
    assert last.frequency is None
    assert last.rationale == "Activation stalled without a written plan"


def test_a_stale_form_says_what_changed_and_keeps_what_was_typed(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "add-barrier")
    # Meanwhile, in another tab, the clinician notes a strength.
    _, other = open_form(site, plan["plan_id"], "add-strength")
    site.client.post(f"/web/plans/{plan['plan_id']}/write/add-strength",
                     data={**other, "text": "Keeps a mood diary"})  # fmt: skip
    stale = site.client.post(address, data={**base, "text": "Night shifts three times a week"})
    assert stale.status_code == 412
    assert "The plan changed while you wrote" in stale.text
    assert "Keeps a mood diary" in stale.text or "Strength" in stale.text
    assert "Night shifts three times a week" in stale.text
    assert f'name="version" value="{plan["version"] + 1}"' in stale.text
    before = version_of(site, plan["plan_id"])
    reapplied = site.client.post(
        address,
        data={**base, "version": str(before), "form_id": hidden(stale.text, "form_id"),
              "text": "Night shifts three times a week"},
        follow_redirects=False,
    )  # fmt: skip
    assert reapplied.status_code == 303
    assert [b.text for b in site.service.load(plan["plan_id"]).barriers][-1].startswith("Night")


def test_another_clinicians_plan_has_no_form(site: Practice) -> None:
    plan = full_plan(site.service, clinician="dana")
    sign_in(site, "marcus")
    assert site.client.get(f"/web/plans/{plan['plan_id']}/write/add-problem").status_code == 404


def test_a_form_without_the_session_token_is_refused(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "add-strength")
    sent = site.client.post(address, data={**base, "csrf_token": "forged", "text": "x"})
    assert sent.status_code == 403
    assert version_of(site, plan["plan_id"]) == plan["version"]


def open_plan_form(site: Practice) -> dict[str, str]:
    form = site.client.get("/web/plans/new")
    assert form.status_code == 200, form.text
    return {"csrf_token": csrf_of(form.text), "form_id": hidden(form.text, "form_id")}


NEW_CLIENT = {
    "client.id": "MRN-5150", "client.name": "Robin Vale", "client.date_of_birth": "1991-03-04",
    "service_type": "individual", "session_minutes": "53", "review_interval_days": "90",
}  # fmt: skip


def test_a_clinician_opens_a_plan_for_a_new_client_from_the_caseload(site: Practice) -> None:
    sign_in(site, "dana")
    assert 'href="/web/plans/new"' in site.client.get("/web/").text
    end = (site.clock().date() + timedelta(days=180)).isoformat()
    sent = site.client.post(
        "/web/plans/new", data={**open_plan_form(site), **NEW_CLIENT, "plan_end_date": end},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    plan_id = UUID(sent.headers["location"].split("/")[3].split("?")[0])
    state = site.service.load(plan_id)
    assert (state.client.id, state.client.name, state.status) == ("MRN-5150", "Robin Vale", "draft")
    assert state.clinician.user_id == "dana-reyes"


def test_a_minor_needs_a_guardian_and_the_form_says_so_at_the_field(site: Practice) -> None:
    sign_in(site, "dana")
    born = site.clock().date().replace(year=site.clock().date().year - 15).isoformat()
    end = (site.clock().date() + timedelta(days=180)).isoformat()
    data = {
        **open_plan_form(site),
        **NEW_CLIENT,
        "client.date_of_birth": born,
        "plan_end_date": end,
    }
    refused = site.client.post("/web/plans/new", data=data)
    assert refused.status_code == 422
    assert 'id="f-client-guardian-name-error"' in refused.text
    assert "Robin Vale" not in site.client.get("/web/").text  # nothing was opened
    data.update({"client.guardian.name": "Jo Vale", "client.guardian.relationship": "mother"})
    opened = site.client.post("/web/plans/new", data=data, follow_redirects=False)
    assert opened.status_code == 303, opened.text
    plan_id = UUID(opened.headers["location"].split("/")[3].split("?")[0])
    guardian = site.service.load(plan_id).client.guardian
    assert guardian is not None
    assert guardian.name == "Jo Vale"


def test_an_mrn_recorded_with_other_demographics_is_refused_naming_the_conflict(
    site: Practice,
) -> None:
    full_plan(site.service, mrn="MRN-5150")  # Alex Moreno, born 1988-05-17
    sign_in(site, "dana")
    end = (site.clock().date() + timedelta(days=180)).isoformat()
    refused = site.client.post(
        "/web/plans/new", data={**open_plan_form(site), **NEW_CLIENT, "plan_end_date": end}
    )
    assert refused.status_code == 422
    message = re.search(r'id="f-client-name-error">(.*?)</p>', refused.text, re.S)
    assert message
    assert "already recorded with another name" in message.group(1)
    assert "Robin Vale" in refused.text  # kept as typed


def test_an_existing_client_is_picked_from_the_caseload(site: Practice) -> None:
    full_plan(site.service, mrn="MRN-7777")
    sign_in(site, "dana")
    end = (site.clock().date() + timedelta(days=180)).isoformat()
    sent = site.client.post(
        "/web/plans/new",
        data={**open_plan_form(site), "existing_client": "MRN-7777", "service_type": "individual",
              "session_minutes": "53", "review_interval_days": "90", "plan_end_date": end},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    plan_id = UUID(sent.headers["location"].split("/")[3].split("?")[0])
    assert site.service.load(plan_id).client.name == "Alex Moreno"


def test_a_diagnosis_is_found_by_words_and_recorded_with_the_code_sets_description(
    site: Practice,
) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "add-diagnosis")
    found = site.client.post(address, data={**base, "code_search": "generalized anxiety",
                                            "action": "search"})  # fmt: skip
    assert found.status_code == 200
    assert '<option value="F41.1"' in found.text
    assert "script-src 'self'" in found.headers["content-security-policy"]
    sent = site.client.post(
        address, data={**base, "code_search": "generalized anxiety", "code": "F41.1"},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    diagnosis = site.service.load(plan["plan_id"]).diagnoses["F41.1"]
    assert diagnosis.description == "Generalized anxiety disorder"
    assert not diagnosis.primary


def test_a_category_that_is_not_billable_is_refused_at_the_code(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "add-diagnosis")
    sent = site.client.post(address, data={**base, "code": "F41"})
    assert sent.status_code == 422
    assert "F41 is not a billable ICD-10-CM code" in sent.text
    assert 'id="f-code-error"' in sent.text
    assert version_of(site, plan["plan_id"]) == plan["version"]


def test_a_review_that_changes_nothing_is_stopped_until_the_clinician_says_why(
    site: Practice,
) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "start-review")
    started = site.client.post(address, data={**base, "reason": "scheduled"},
                               follow_redirects=False)  # fmt: skip
    assert started.status_code == 303, started.text
    [review] = site.service.load(plan["plan_id"]).reviews.values()
    address, base = open_form(site, plan["plan_id"], "complete-review", review.id)
    form = site.client.get(address)
    assert "This would be recorded as copied forward" in form.text  # shown before completing
    typed = {
        **base, "assessments.0.objective_id": plan["objective"],
        "assessments.0.status": "open", "progress_summary": "Attending weekly; mood stable.",
    }  # fmt: skip
    checked = site.client.post(address, data={**typed, "action": "check"})
    assert checked.status_code == 200
    assert "This would be recorded as copied forward" in checked.text
    assert version_of(site, plan["plan_id"]) == plan["version"] + 1
    refused = site.client.post(address, data={**typed, "action": "save"})
    assert refused.status_code == 422
    assert 'id="f-continuation_reason-error"' in refused.text
    assert "Attending weekly; mood stable." in refused.text
    assert version_of(site, plan["plan_id"]) == plan["version"] + 1
    reason = "Exposure work starts next month; the plan is right until then."
    done = site.client.post(address, data={**typed, "continuation_reason": reason},
                            follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    completed = site.service.load(plan["plan_id"]).reviews[review.id]
    assert completed.continuation_reason == reason
    assert completed.progress_summary == "Attending weekly; mood stable."


def test_a_review_that_revises_the_plan_needs_no_reason(site: Practice) -> None:
    plan = full_plan(site.service)
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "start-review")
    site.client.post(address, data={**base, "reason": "scheduled"})
    [review] = site.service.load(plan["plan_id"]).reviews.values()
    address, base = open_form(site, plan["plan_id"], "revise-objective", plan["objective"])
    site.client.post(
        address,
        data={**base, "statement": "PHQ-9 below 10 for two consecutive months",
              "measure.instrument": "PHQ-9", "measure.direction": "decrease",
              "measure.baseline": "16", "measure.target": "9",
              "rationale": "Two months shows a durable change"},
    )  # fmt: skip
    address, base = open_form(site, plan["plan_id"], "complete-review", review.id)
    assert "copied forward" not in site.client.get(address).text.split("<form")[0]
    done = site.client.post(
        address,
        data={**base, "assessments.0.objective_id": plan["objective"],
              "assessments.0.status": "partially_met",
              "progress_summary": "PHQ-9 from 16 to 11; target lengthened to hold the gain."},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303, done.text
    assert site.service.load(plan["plan_id"]).reviews[review.id].continuation_reason is None


def test_wording_already_in_another_clients_plan_is_flagged_before_saving(site: Practice) -> None:
    full_plan(site.service, mrn="MRN-1111")  # its Objective 1.1 reads "PHQ-9 below 10"
    plan = full_plan(site.service, mrn="MRN-2222")
    sign_in(site, "dana")
    address, base = open_form(site, plan["plan_id"], "add-objective")
    typed = {**base, "goal_id": plan["goal"], "statement": "PHQ-9  below 10"}
    warned = site.client.post(address, data=typed)
    assert warned.status_code == 200
    assert "This wording is already in other clients' plans" in warned.text
    assert "in the plan of 1 other client." in warned.text  # MRN-1111; never which one
    assert version_of(site, plan["plan_id"]) == plan["version"]
    kept = site.client.post(address, data={**typed, "keep_wording": "yes"}, follow_redirects=False)
    assert kept.status_code == 303, kept.text
    assert version_of(site, plan["plan_id"]) == plan["version"] + 1
