"""A FHIR client library (fhirpy) reads the demo caseload from a running ``plantrail serve
--demo``: a plan, its history, one version of it and the plan as the chart stood at an
earlier instant; search with each kind of parameter, paging, strict handling; a conditional
read; ``$everything`` by GET and POST; over a real socket, as an integrating system would."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome

from tests.e2e.test_http_serve import free_port, server, wait_healthy

pytestmark = pytest.mark.slow


def test_fhirpy_reads_a_demo_plan_its_history_and_an_earlier_version(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANTRAIL_")}
    env["HOME"] = str(tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    with server(["--demo", "--port", str(port)], env, log) as process:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process, log)
        printed = log.read_text()
        assert f"{base}/fhir/metadata" in printed, "the banner points to the FHIR interface"
        token = re.search(r"\(auditor, alex-kim\)\n  token: (pt_\S+)", printed)
        assert token is not None, printed
        client = SyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {token.group(1)}")

        statement = client.execute("metadata", method="get")
        assert statement["fhirVersion"] == "4.0.1"

        found = client.resources("CarePlan").search(subject="Patient/MRN-20602").fetch()
        assert len(found) == 1
        plan = found[0]
        assert plan["subject"]["reference"] == "Patient/MRN-20602"
        get_fhir_model_class("CarePlan").model_validate(plan.serialize())
        again = client.reference("CarePlan", plan["id"]).to_resource()
        assert again["meta"]["versionId"] == plan["meta"]["versionId"]

        history = client.execute(f"CarePlan/{plan['id']}/_history", method="get")
        latest = int(plan["meta"]["versionId"])
        assert history["total"] == latest
        first = client.execute(f"CarePlan/{plan['id']}/_history/1", method="get")
        assert first["meta"]["versionId"] == "1"
        assert first["status"] == "draft", "a plan opens as a draft"

        middle = history["entry"][latest // 2]["resource"]
        stood = client.execute(
            f"CarePlan/{plan['id']}", method="get", params={"_at": middle["meta"]["lastUpdated"]}
        )
        assert stood["meta"]["versionId"] == middle["meta"]["versionId"]

        bundle = client.execute(f"CarePlan/{plan['id']}/$everything", method="get")
        kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
        assert {"Goal", "Condition", "Observation", "Provenance"} <= kinds

        # $everything by POST, with the instant as a Parameters resource.
        posted = client.execute(
            f"CarePlan/{plan['id']}/$everything",
            method="post",
            data={
                "resourceType": "Parameters",
                "parameter": [{"name": "_at", "valueInstant": middle["meta"]["lastUpdated"]}],
            },
        )
        assert posted["entry"][0]["resource"]["meta"]["versionId"] == middle["meta"]["versionId"]

        # Search: each kind of parameter, paging through next links, _summary=count.
        searches = {
            "patient": "Patient/MRN-20602",
            "subject:Patient": "MRN-20602",
            "_id": plan["id"],
            "status": plan["status"],
            "category": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category|assess-plan",
            "date": f"ge{plan['period']['start']}",
        }
        for name, value in searches.items():
            hits = client.resources("CarePlan").search(**{name: value}).fetch()
            assert plan["id"] in [p["id"] for p in hits], name
        everyone = client.resources("CarePlan").search().fetch_all()
        paged = client.resources("CarePlan").search().limit(2).fetch_all()
        assert [p["id"] for p in paged] == [p["id"] for p in everyone]
        assert len(everyone) > 2, "the demo caseload spans several pages of two"
        assert client.resources("CarePlan").search().count() == len(everyone)
        goals = client.resources("Goal").search(patient="MRN-20602").fetch_all()
        assert goals
        assert all(g["subject"]["reference"] == "Patient/MRN-20602" for g in goals)

        # Undeclared parameters: ignored (and not in the self link), or refused when strict.
        lenient = client.execute("CarePlan", method="get", params={"foo": "bar"})
        assert lenient["link"][0]["url"].endswith("/CarePlan"), lenient["link"][0]
        strict = SyncFHIRClient(
            f"{base}/fhir",
            authorization=f"Bearer {token.group(1)}",
            extra_headers={"Prefer": "handling=strict"},
        )
        with pytest.raises(OperationOutcome):
            strict.resources("CarePlan").search(foo="bar").fetch()

        # Conditional read: fhirpy's refresh sends If-None-Match; unchanged is 304.
        goal = client.reference("Goal", goals[0]["id"]).to_resource()
        before = goal.serialize()
        goal.refresh()
        assert goal.serialize() == before
