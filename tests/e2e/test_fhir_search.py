"""FHIR search as the R4 search page defines it, over HTTP on SQLite and PostgreSQL: every
parameter the CapabilityStatement declares is applied on every type that declares it (a test
walks the statement), undeclared ones are left out of the self link or, with
``Prefer: handling=strict``, refused; ``_at``/``effective-on`` give each plan as it stood;
paging, ``_summary=count`` and ``_sort``; versions, ETags and ``If-None-Match`` on every type;
JSON only; ``$everything`` by GET and POST with its OperationDefinition."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from plantrail.domain import commands as c
from plantrail.projections.fhir.search import PARAMS, Param
from tests.e2e.test_fhir_api import get, valid
from tests.support.http import Practice, meta, practice
from tests.support.plans import full_plan

STRICT = {"Prefer": "handling=strict"}
US_CORE_ASSESS_PLAN = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category|assess-plan"


@pytest.fixture
def site(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


def search(
    site: Practice, path: str, who: str = "alex", strict: bool = False, **params: Any
) -> Any:
    headers = {**site.auth(who), **(STRICT if strict else {})}
    return site.client.get(f"/fhir/{path}", params=params, headers=headers)


def ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def self_params(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    link = next(x["url"] for x in bundle["link"] if x["relation"] == "self")
    return parse_qsl(urlsplit(link).query)


def test_care_plan_parameters_select_and_the_self_link_names_what_was_applied(
    site: Practice,
) -> None:
    mine = str(full_plan(site.service, "dana", mrn="MRN-4001")["plan_id"])
    theirs = str(full_plan(site.service, "marcus", mrn="MRN-4002")["plan_id"])
    assert ids(valid(search(site, "CarePlan").json())) == [mine, theirs]
    for params in (
        {"patient": "Patient/MRN-4002"},
        {"patient": "MRN-4002"},
        {"subject": "Patient/MRN-4002"},
        {"subject:Patient": "MRN-4002"},
        {"_id": theirs},
        {"_id": f"{theirs},no-such-plan"},
    ):
        assert ids(search(site, "CarePlan", **params).json()) == [theirs], params
    assert search(site, "CarePlan", status="completed").json()["total"] == 0
    assert search(site, "CarePlan", status="active").json()["total"] == 2
    assert search(site, "CarePlan", category=US_CORE_ASSESS_PLAN).json()["total"] == 2
    assert search(site, "CarePlan", category="other|assess-plan").json()["total"] == 0
    assert search(site, "CarePlan", date="ge2000-01-01").json()["total"] == 2
    assert search(site, "CarePlan", date="lt2000-01-01").json()["total"] == 0

    lenient = search(site, "CarePlan", foo="bar", patient="MRN-4002", encounter="Encounter/1")
    assert ids(lenient.json()) == [theirs]
    assert self_params(lenient.json()) == [("patient", "MRN-4002")], "only what was applied"
    for params in ({"foo": "bar"}, {"encounter": "Encounter/1"}, {"subject:missing": "true"}):
        refused = search(site, "CarePlan", strict=True, **params)
        assert refused.status_code == 400, params
        assert refused.json()["resourceType"] == "OperationOutcome"
    assert search(site, "CarePlan", strict=True, patient="MRN-4002").status_code == 200
    assert search(site, "CarePlan", patient="Practitioner/x").status_code == 400


def test_at_and_effective_on_return_each_plan_as_it_stood(site: Practice) -> None:
    early = datetime(2000, 1, 1, tzinfo=UTC).isoformat()
    plan = full_plan(site.service, "dana", mrn="MRN-4001")
    stood = site.clock.now
    before = site.service.load(plan["plan_id"]).version
    site.clock.advance(days=2)
    site.service.execute(
        plan["plan_id"],
        c.ReviseObjective(objective_id=plan["objective"], statement="PHQ-9 below 8"),
        meta("dana", rationale="Faster progress than expected."),
    )
    later = full_plan(site.service, "dana", mrn="MRN-4003")
    now = valid(search(site, "CarePlan", who="dana").json())
    assert next(e["resource"]["meta"]["versionId"] for e in now["entry"]) == str(before + 1)
    then = valid(search(site, "CarePlan", who="dana", _at=stood.isoformat()).json())
    assert ids(then) == [str(plan["plan_id"])], "a plan opened later is absent"
    assert then["entry"][0]["resource"]["meta"]["versionId"] == str(before)
    assert ("_at", stood.isoformat()) in self_params(then)
    assert search(site, "CarePlan", who="dana", _at=early).json()["total"] == 0
    on = search(site, "CarePlan", who="dana", **{"effective-on": stood.date().isoformat()})
    assert str(plan["plan_id"]) in ids(on.json())
    gone = search(site, "CarePlan", who="dana", **{"effective-on": "1990-01-01"}).json()
    assert gone["total"] == 0
    assert str(later["plan_id"]) in ids(search(site, "CarePlan", who="dana").json())
    assert search(site, "CarePlan", who="dana", _at="yesterday").status_code == 400


def test_paging_summary_count_and_sort(site: Practice) -> None:
    made = []
    for n in range(3):
        made.append(str(full_plan(site.service, "dana", mrn=f"MRN-50{n}")["plan_id"]))
        site.clock.advance(days=1)
    first = valid(search(site, "CarePlan", _count="2").json())
    assert first["total"] == 3
    assert ids(first) == made[:2]
    links = {x["relation"]: x["url"] for x in first["link"]}
    assert {"self", "first", "next", "last"} <= set(links)
    following = site.client.get(links["next"], headers=site.auth("alex")).json()
    assert ids(following) == made[2:]
    assert "next" not in {x["relation"] for x in following["link"]}
    counted = valid(search(site, "CarePlan", _summary="count").json())
    assert counted["total"] == 3
    assert "entry" not in counted
    newest = search(site, "CarePlan", _sort="-_lastUpdated").json()
    assert ids(newest) == list(reversed(made))
    assert ids(search(site, "CarePlan", _sort="_lastUpdated").json()) == made
    assert search(site, "CarePlan", strict=True, _sort="title").status_code == 400
    assert search(site, "CarePlan", strict=True, _summary="true").status_code == 400
    assert search(site, "CarePlan", _count="many").status_code == 400


def _matching(param: Param, resource: dict[str, Any]) -> tuple[str, str] | None:
    """A value of ``param`` that the resource matches, and one it does not."""
    found = param.values(resource)
    if not found:
        return None
    if param.kind == "token":
        system, code = found[0]
        return (f"{system}|{code}" if system else code), "no-such-code-anywhere"
    if param.kind == "reference":
        return found[0], f"{found[0].split('/')[0]}/no-such-id"
    low, high = found[0]
    if high.year < 9999:
        return f"le{high.isoformat()}", f"gt{high.isoformat()}"
    return f"ge{low.isoformat()}", f"lt{low.isoformat()}"


def test_the_capability_statement_is_what_the_server_does(site: Practice) -> None:
    """Walk the statement: every declared interaction and parameter works and selects;
    undeclared interactions and parameters are refused."""
    from plantrail.api.demo import load_demo

    # The demo's plan of MRN-20417 holds every type, an amendment request's Task included.
    jordan = next(p for p in load_demo(site.service) if p.client_id == "MRN-20417")
    statement = valid(get(site, "metadata", who=None).json())
    bundle = get(site, f"CarePlan/{jordan.plan_id}/$everything", who="alex").json()
    samples: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        samples.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    declared = statement["rest"][0]["resource"]
    assert {r["type"] for r in declared} == set(PARAMS)
    for resource in declared:
        kind = resource["type"]
        example = samples[kind][0]
        interactions = {i["code"] for i in resource["interaction"]}
        assert {p["name"] for p in resource["searchParam"]} == {p.name for p in PARAMS[kind]}
        assert "read" in interactions
        assert "search-type" in interactions
        read = get(site, f"{kind}/{example['id']}", who="alex")
        assert read.status_code == 200
        assert read.headers["ETag"]
        history = get(site, f"{kind}/{example['id']}/_history", who="alex")
        assert (history.status_code == 200) == ("history-instance" in interactions), kind
        for method in ("post", "put", "delete", "patch"):
            path = f"/fhir/{kind}" if method == "post" else f"/fhir/{kind}/{example['id']}"
            refused = site.client.request(method, path, headers=site.auth("alex"), json={})
            assert refused.status_code in (404, 405), (method, kind, refused.status_code)
            assert refused.json()["resourceType"] == "OperationOutcome"
        for param in PARAMS[kind]:
            if param.kind == "special":
                continue  # _at and effective-on: test_at_and_effective_on_...
            # The first resource of the type that has a value for the parameter.
            example, values = next(
                (x, v) for x in samples[kind] if (v := _matching(param, x)) is not None
            )
            hit, miss = values
            found = search(site, kind, strict=True, _count="500", **{param.name: hit})
            assert found.status_code == 200, (kind, param.name, found.text)
            assert example["id"] in ids(valid(found.json())), (kind, param.name, hit)
            assert self_params(found.json()) == [("_count", "500"), (param.name, hit)]
            missed = search(site, kind, strict=True, _count="500", **{param.name: miss}).json()
            assert example["id"] not in ids(missed), (kind, param.name, miss)
        for undeclared in ("encounter", "_text", "_has:Observation:patient:code", "performer"):
            if undeclared in {p.name for p in PARAMS[kind]}:
                continue
            assert search(site, kind, strict=True, **{undeclared: "x"}).status_code == 400
            assert self_params(search(site, kind, **{undeclared: "x"}).json()) == []


def test_every_type_has_versions_and_answers_if_none_match(site: Practice) -> None:
    plan = full_plan(site.service, "dana", mrn="MRN-4001")
    bundle = get(site, f"CarePlan/{plan['plan_id']}/$everything").json()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert resource["meta"]["versionId"], resource["id"]
        assert resource["meta"]["lastUpdated"], resource["id"]
        path = f"{resource['resourceType']}/{resource['id']}"
        read = get(site, path)
        etag = read.headers["ETag"]
        assert etag == f'W/"{resource["meta"]["versionId"]}"'
        again = site.client.get(
            f"/fhir/{path}", headers={**site.auth("dana"), "If-None-Match": etag}
        )
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["ETag"] == etag
        other = site.client.get(
            f"/fhir/{path}", headers={**site.auth("dana"), "If-None-Match": 'W/"x"'}
        )
        assert other.status_code == 200
    goal = f"Goal/{plan['objective']}"
    before = get(site, goal).headers["ETag"]
    care_plan = get(site, f"CarePlan/{plan['plan_id']}").headers["ETag"]
    site.clock.advance(days=1)
    site.service.execute(
        plan["plan_id"],
        c.ReviseObjective(objective_id=plan["objective"], statement="PHQ-9 below 8"),
        meta("dana", rationale="Faster progress than expected."),
    )
    changed = get(site, goal)
    assert changed.headers["ETag"] != before
    assert (
        changed.json()["meta"]["lastUpdated"]
        == get(site, f"CarePlan/{plan['plan_id']}").json()["meta"]["lastUpdated"]
    )
    stale = site.client.get(
        f"/fhir/CarePlan/{plan['plan_id']}",
        headers={**site.auth("dana"), "If-None-Match": care_plan},
    )
    assert stale.status_code == 200
    patient = get(site, "Patient/MRN-4001").headers["ETag"]
    assert get(site, "Patient/MRN-4001").headers["ETag"] == patient, "unchanged, same version"


def test_json_only_everything_by_post_and_its_operation_definition(site: Practice) -> None:
    plan = full_plan(site.service, "dana", mrn="MRN-4001")
    path = f"CarePlan/{plan['plan_id']}"
    xml = get(site, path, _format="xml")
    assert xml.status_code == 406
    assert xml.json()["resourceType"] == "OperationOutcome"
    accept = site.client.get(
        f"/fhir/{path}", headers={**site.auth("dana"), "Accept": "application/fhir+xml"}
    )
    assert accept.status_code == 406
    assert get(site, path, _format="json").status_code == 200
    assert get(site, "CarePlan", _format="application/fhir+json").status_code == 200
    stood = site.clock.now
    version = site.service.load(plan["plan_id"]).version
    site.clock.advance(days=1)
    site.service.execute(
        plan["plan_id"],
        c.ReviseObjective(objective_id=plan["objective"], statement="PHQ-9 below 8"),
        meta("dana", rationale="Faster progress than expected."),
    )
    posted = site.client.post(f"/fhir/{path}/$everything", headers=site.auth("dana"))
    assert posted.status_code == 200
    assert posted.json() == get(site, f"{path}/$everything").json()
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "_at", "valueInstant": stood.isoformat()}],
    }
    then = site.client.post(f"/fhir/{path}/$everything", headers=site.auth("dana"), json=parameters)
    assert then.status_code == 200, then.text
    assert then.json()["entry"][0]["resource"]["meta"]["versionId"] == str(version)
    statement = get(site, "metadata", who=None).json()
    care_plan = next(r for r in statement["rest"][0]["resource"] if r["type"] == "CarePlan")
    canonical = care_plan["operation"][0]["definition"]
    assert canonical == "http://testserver/fhir/OperationDefinition/CarePlan-everything"
    served = site.client.get(canonical)
    assert served.status_code == 200, "the URL the CapabilityStatement names resolves"
    definition = valid(served.json())
    assert definition["url"] == canonical
    assert definition["code"] == "everything"
