"""The FHIR read interface over HTTP (SQLite and PostgreSQL): what a FHIR client relies on.
Content type, weak ETags and version ids, the history and each version of it, the plan as the
chart stood at an instant and as in effect on a date, search, ``$everything`` with every
reference resolved, the same reach and 404 as the JSON API, OperationOutcome errors and one
access-log record a request. Every resource returned validates against the R4B models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fhir.resources.R4B import get_fhir_model_class

from plantrail.domain import commands as c
from tests.support.fhir import unresolved, validate
from tests.support.http import Practice, meta, practice
from tests.support.plans import full_plan

FHIR_JSON = "application/fhir+json"


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` after checking it against its R4B model (raises on any invalid element);
    a search or history Bundle is a response, not a stored resource, and has no id."""
    if resource["resourceType"] == "Bundle" and "id" not in resource:
        get_fhir_model_class("Bundle").model_validate(resource)
    else:
        validate(resource)
    return resource


def get(site: Practice, path: str, who: str | None = "dana", **params: Any) -> Any:
    return site.client.get(f"/fhir/{path}", params=params, headers=site.auth(who))


def test_metadata_is_public_and_names_what_is_served(site: Practice) -> None:
    response = get(site, "metadata", who=None)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR_JSON)
    statement = valid(response.json())
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    [rest] = statement["rest"]
    care_plan = next(r for r in rest["resource"] if r["type"] == "CarePlan")
    assert {i["code"] for i in care_plan["interaction"]} >= {
        "read", "vread", "history-instance", "search-type",
    }  # fmt: skip
    assert {p["name"] for p in care_plan["searchParam"]} >= {"subject", "_lastUpdated"}


def test_a_care_plan_reads_with_its_version_as_etag(site: Practice) -> None:
    plan = full_plan(site.service)
    response = get(site, f"CarePlan/{plan['plan_id']}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = valid(response.json())
    version = site.service.load(plan["plan_id"]).version
    assert body["id"] == str(plan["plan_id"])
    assert body["meta"]["versionId"] == str(version)
    assert response.headers["ETag"] == f'W/"{version}"'
    assert body["intent"] == "plan"
    assert body["status"] == "active"
    assert "Last-Modified" in response.headers


def test_history_lists_every_version_newest_first_and_each_reads_back(site: Practice) -> None:
    plan = full_plan(site.service)
    version = site.service.load(plan["plan_id"]).version
    bundle = valid(get(site, f"CarePlan/{plan['plan_id']}/_history").json())
    assert bundle["type"] == "history"
    assert bundle["total"] == version == len(bundle["entry"])
    listed = [int(e["resource"]["meta"]["versionId"]) for e in bundle["entry"]]
    assert listed == list(range(version, 0, -1))
    assert bundle["entry"][-1]["request"]["method"] == "POST"
    for entry in (bundle["entry"][0], bundle["entry"][len(listed) // 2], bundle["entry"][-1]):
        number = entry["resource"]["meta"]["versionId"]
        read = get(site, f"CarePlan/{plan['plan_id']}/_history/{number}")
        assert read.status_code == 200
        assert read.json() == entry["resource"], "vread gives the version the history lists"
        assert read.headers["ETag"] == f'W/"{number}"'
    beyond = get(site, f"CarePlan/{plan['plan_id']}/_history/{version + 1}")
    assert beyond.status_code == 404
    assert beyond.json()["resourceType"] == "OperationOutcome"


def test_the_plan_as_the_chart_stood_and_as_in_effect(site: Practice) -> None:
    plan = full_plan(site.service)
    plan_id = plan["plan_id"]
    stood = site.clock.now
    before = site.service.load(plan_id).version
    site.clock.advance(days=2)
    site.service.execute(
        plan_id,
        c.ReviseObjective(objective_id=plan["objective"], statement="PHQ-9 below 8"),
        meta("dana", rationale="Faster progress than expected."),
    )
    now = valid(get(site, f"CarePlan/{plan_id}").json())
    then = valid(get(site, f"CarePlan/{plan_id}", _at=stood.isoformat()).json())
    assert int(now["meta"]["versionId"]) == before + 1
    assert int(then["meta"]["versionId"]) == before
    everything_then = get(site, f"CarePlan/{plan_id}/$everything", _at=stood.isoformat()).json()
    statements = [
        r["resource"]["description"]["text"]
        for r in everything_then["entry"]
        if r["resource"]["resourceType"] == "Goal"
    ]
    assert "PHQ-9 below 10" in statements
    assert "PHQ-9 below 8" not in statements
    effective = get(site, f"CarePlan/{plan_id}", **{"effective-on": stood.date().isoformat()})
    assert effective.status_code == 200
    early = get(site, f"CarePlan/{plan_id}", **{"effective-on": "1990-01-01"})
    assert early.status_code == 404
    assert early.json()["resourceType"] == "OperationOutcome"


def test_everything_is_a_bundle_whose_references_all_resolve(site: Practice) -> None:
    plan = full_plan(site.service)
    bundle = valid(get(site, f"CarePlan/{plan['plan_id']}/$everything").json())
    assert bundle["type"] == "searchset"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds >= {"CarePlan", "Patient", "Practitioner", "Condition", "Goal", "Provenance"}
    for entry in bundle["entry"]:
        valid(entry["resource"])
        assert entry["fullUrl"].startswith("http://testserver/fhir/")
    assert unresolved(bundle) == []


def test_search_by_subject_and_last_updated_within_reach(site: Practice) -> None:
    mine = full_plan(site.service, "dana", mrn="MRN-4001")
    full_plan(site.service, "marcus", mrn="MRN-4002")
    found = valid(get(site, "CarePlan").json())
    assert found["type"] == "searchset"
    assert [e["resource"]["id"] for e in found["entry"]] == [str(mine["plan_id"])]
    assert get(site, "CarePlan", who="alex").json()["total"] == 2, "an auditor reaches both"
    by_subject = get(site, "CarePlan", who="alex", subject="Patient/MRN-4002").json()
    assert by_subject["total"] == 1
    today = site.clock.now.date()
    assert get(site, "CarePlan", who="alex", _lastUpdated=f"ge{today}").json()["total"] == 2
    later = (today + timedelta(days=1)).isoformat()
    assert get(site, "CarePlan", who="alex", _lastUpdated=f"ge{later}").json()["total"] == 0
    bad = get(site, "CarePlan", _lastUpdated="yesterday")
    assert bad.status_code == 400
    assert bad.json()["resourceType"] == "OperationOutcome"
    assert "_lastUpdated" in bad.json()["issue"][0]["diagnostics"]


def test_reach_and_errors_are_operation_outcomes(site: Practice) -> None:
    marcus = full_plan(site.service, "marcus")
    hidden = get(site, f"CarePlan/{marcus['plan_id']}")
    missing = get(site, f"CarePlan/{uuid4()}")
    malformed = get(site, "CarePlan/not-a-plan")
    assert hidden.status_code == missing.status_code == malformed.status_code == 404
    assert hidden.content == missing.content, "another caseload's plan looks like no plan"
    assert hidden.json()["resourceType"] == "OperationOutcome"
    assert hidden.json()["issue"][0]["code"] == "not-found"
    for path in ("_history", "$everything", "_history/1"):
        assert get(site, f"CarePlan/{marcus['plan_id']}/{path}").status_code == 404
    anonymous = get(site, f"CarePlan/{marcus['plan_id']}", who=None)
    assert anonymous.status_code == 401
    assert anonymous.json()["resourceType"] == "OperationOutcome"
    assert anonymous.headers["content-type"].startswith(FHIR_JSON)
    admin = get(site, f"CarePlan/{marcus['plan_id']}", who="admin")
    assert admin.status_code == 403
    assert admin.json()["issue"][0]["code"] == "forbidden"
    nowhere = get(site, "Observation/xyz")
    assert nowhere.status_code == 404
    assert nowhere.json()["resourceType"] == "OperationOutcome"


def test_each_fhir_request_is_one_access_log_record(site: Practice) -> None:
    plan = full_plan(site.service)
    before = len(site.access_log())
    get(site, f"CarePlan/{plan['plan_id']}", who="alex")
    get(site, f"CarePlan/{plan['plan_id']}/_history", who="alex")
    get(site, f"CarePlan/{plan['plan_id']}", who="marcus")
    logged = site.access_log()[before:]
    assert [(e["user_id"], e["action"], e["outcome"]) for e in logged] == [
        ("alex-kim", "view:fhir:careplan", "ok"),
        ("alex-kim", "view:fhir:history", "ok"),
        ("marcus-hill", "view:fhir:careplan", "denied"),
    ]
    assert all(e["plan_id"] == str(plan["plan_id"]) for e in logged)
    assert site.verify_access_log()


def test_every_reference_of_everything_reads_back_within_reach(site: Practice) -> None:
    plan = full_plan(site.service)
    bundle = get(site, f"CarePlan/{plan['plan_id']}/$everything").json()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind, item = resource["resourceType"], resource["id"]
        read = get(site, f"{kind}/{item}")
        assert read.status_code == 200, (kind, item, read.text)
        assert read.json() == resource, f"{kind}/{item} reads as $everything holds it"
    goal = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Goal")
    hidden = get(site, f"Goal/{goal['id']}", who="marcus")
    missing = get(site, "Goal/no-such-goal", who="marcus")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["issue"] == missing.json()["issue"], "no oracle for another caseload"
    assert get(site, f"Goal/{goal['id']}", who="alex").status_code == 200
    logged = site.access_log(user_id="marcus-hill")
    assert [e["action"] for e in logged] == ["view:fhir:goal", "view:fhir:goal"]


def test_a_denied_amendment_is_a_task_with_its_statements(site: Practice) -> None:
    """45 CFR 164.526(d)(4): the request, the denial, the client's statement of disagreement
    and the practice's rebuttal go with a disclosure; in FHIR, a Task on the CarePlan."""
    from plantrail.api.demo import load_demo

    jordan = next(p for p in load_demo(site.service) if p.client_id == "MRN-20417")
    bundle = valid(get(site, f"CarePlan/{jordan.plan_id}/$everything", who="dana").json())
    assert unresolved(bundle) == []
    (task,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"]
    valid(task)
    assert task["status"] == "rejected"
    assert task["focus"]["reference"] == f"CarePlan/{jordan.plan_id}"
    assert task["statusReason"]["coding"][0]["code"] == "accurate_and_complete"
    assert "accurate and complete" in task["statusReason"]["text"]
    notes = [n["text"] for n in task["note"]]
    assert any(n.startswith("Statement of disagreement: I disagree. In 2019") for n in notes)
    assert any(n.startswith("Rebuttal: Bereavement was considered") for n in notes)
    said = next(n for n in task["note"] if n["text"].startswith("Statement of disagreement"))
    assert said["authorString"] == "Jordan Ellis (client)"
    concerned = [i["valueReference"]["reference"] for i in task["input"] if "valueReference" in i]
    assert concerned[0].startswith("Condition/")
    assert len(concerned) == 2
    assert task["restriction"]["period"]["end"]
    again = get(site, f"Task/{task['id']}", who="dana")
    assert again.status_code == 200
    assert valid(again.json()) == task
    assert get(site, f"Task/{task['id']}", who="marcus").status_code == 404


def test_a_search_for_a_subject_that_names_no_client_is_400(site: Practice) -> None:
    """A NUL or bytes that are no UTF-8 (a lone surrogate) in ``subject`` is a bad search
    parameter, not an empty match."""
    full_plan(site.service)
    for query in ("subject=Patient/MRN%00x", "subject=Patient/%ED%A0%80", "subject=MRN%1B%5B2J"):
        found = site.request("alex", "GET", f"/fhir/CarePlan?{query}")
        assert found.status_code == 400, (query, found.text)
        outcome = found.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "invalid"
