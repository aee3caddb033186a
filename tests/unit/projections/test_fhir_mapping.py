"""The FHIR R4 mapping of a plan, as a FHIR client reads it: every resource parses with the R4B
models, codes are the standard ones, and every reference in a Bundle resolves inside it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from plantrail.domain import commands as c
from plantrail.domain.decide import Context, decide
from plantrail.domain.plan import apply
from plantrail.domain.values import Client, EntryKind, Guardian
from plantrail.projections import fhir
from plantrail.projections.fhir.ids import fhir_id
from plantrail.projections.fhir.resources import patient
from tests.support.fhir import FHIR_ID, counts, references, unresolved, validate
from tests.support.histories import SUPERVISOR, PlanBuilder, complete_review, depression_plan
from tests.support.plans import CLINICIAN, meta

BASE = "https://ehr.example.org/fhir"


def _run_as(b: PlanBuilder, command: c.PlanCommand, kind: EntryKind, rationale: str) -> None:
    envelope = meta(CLINICIAN, rationale=rationale, entry_kind=kind)
    for event in decide(b.state, command, Context(b.plan_id, envelope, b.now)):
        apply(b.state, event)
        b.events.append(event)


@pytest.fixture(scope="module")
def plan() -> tuple[PlanBuilder, dict[str, str]]:
    """A signed depression plan with scores on three instruments (one voided), a review, an
    amendment, a removed diagnosis, a revoked and a superseded signature, a supervisor's
    approval and a discontinued intervention."""
    b, ids = depression_plan()
    b.advance(days=7)
    ids["phq9"] = b.add(
        c.RecordMeasurement(
            instrument="phq9", score=14, administered_on=b.today, objective_id=ids["objective11"]
        )
    )
    ids["gad7"] = b.add(c.RecordMeasurement(instrument="GAD-7", score=11, administered_on=b.today))
    ids["pcl5"] = b.add(c.RecordMeasurement(instrument="PCL-5", score=40, administered_on=b.today))
    b.run(c.VoidMeasurement(measurement_id=ids["pcl5"]), rationale="Scored for another client.")
    ids["approval"] = b.add(
        c.CaptureSignature(
            role="supervisor",
            meaning="approved",
            signer_name="Sam Okafor",
            signer_credentials="PhD",
            signer_id="sam",
        ),
        actor=SUPERVISOR,
    )
    b.run(c.RevokeSignature(signature_id=ids["approval"]), actor=SUPERVISOR, rationale="Too soon.")
    b.advance(days=21)
    ids["review"] = complete_review(
        b,
        "Mood is lifting; the safety plan is written.",
        {ids["objective21"]: "met", ids["objective12"]: "not_met"},
    )
    b.run(c.AddDiagnosis(code="F41.1", description="Generalized anxiety disorder"))
    b.run(c.RemoveDiagnosis(code="F41.1"), rationale="Anxiety is secondary to the depression.")
    b.run(
        c.ReviseIntervention(intervention_id=ids["intervention2"], status="discontinued"),
        rationale="Thought records felt like homework.",
    )
    _run_as(
        b,
        c.ReviseObjective(objective_id=ids["objective11"], target_date=date(2026, 5, 1)),
        "amendment",
        "Twelve weeks was too tight after the missed sessions.",
    )
    b.run(c.ReviseGoal(goal_id=ids["goal2"], status="achieved"), rationale="Plan in place.")
    return b, ids


def _by_type(resources: list[dict[str, Any]], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == resource_type]


def _one(resources: list[dict[str, Any]], resource_id: str) -> dict[str, Any]:
    (found,) = [r for r in resources if r["id"] == resource_id]
    return found


def test_every_resource_parses_with_the_r4b_models_and_has_a_fhir_id(plan: Any) -> None:
    b, _ = plan
    resources = fhir.plan_resources(b.state, b.events)
    for resource in resources:
        validate(resource)
    assert resources[0]["resourceType"] == "CarePlan"
    assert resources[1]["resourceType"] == "Patient"
    assert set(counts(resources)) == {
        "CarePlan",
        "Patient",
        "Practitioner",
        "Condition",
        "Goal",
        "Observation",
        "Provenance",
    }
    ids = [(r["resourceType"], r["id"]) for r in resources]
    assert len(ids) == len(set(ids)), "no two resources share a type and id"


def test_care_plan_carries_the_plan_version_status_and_people(plan: Any) -> None:
    b, ids = plan
    care_plan = fhir.care_plan(b.state)
    assert care_plan["id"] == str(b.plan_id)
    assert care_plan["meta"]["versionId"] == str(b.state.version)
    assert care_plan["meta"]["lastUpdated"] == fhir_rfc3339(b)
    assert (care_plan["status"], care_plan["intent"]) == ("active", "plan")
    assert care_plan["subject"]["reference"] == "Patient/MRN-2001"
    assert care_plan["author"]["reference"] == "Practitioner/dana"
    assert {x["reference"] for x in care_plan["contributor"]} == {
        "Practitioner/dana",
        "Practitioner/sam",
    }
    assert care_plan["period"] == {"start": "2026-01-05", "end": "2026-12-31"}
    activities = {
        a["detail"]["description"].split(":")[0]: a["detail"] for a in care_plan["activity"]
    }
    assert activities["Intervention 2"]["status"] == "stopped"
    assert activities["Intervention 1"]["status"] == "in-progress"
    assert activities["Intervention 1"]["scheduledString"] == "weekly"
    assert {g["reference"] for g in activities["Intervention 1"]["goal"]} == {
        f"Goal/{ids['objective11']}",
        f"Goal/{ids['objective12']}",
    }
    addressed = {a["reference"] for a in care_plan["addresses"]}
    assert f"Condition/{b.plan_id}-dx-F32.1" in addressed
    assert f"Condition/{b.plan_id}-dx-F41.1" not in addressed, "removed diagnoses are not addressed"


def fhir_rfc3339(b: PlanBuilder) -> str:
    return b.state.last_recorded_at.isoformat().replace("+00:00", "Z")


def test_draft_and_discharged_plans_map_to_draft_and_completed() -> None:
    draft, _ = depression_plan(sign=False)
    assert fhir.care_plan(draft.state)["status"] == "draft"
    assert fhir.care_plan(draft.state)["activity"][0]["detail"]["status"] == "not-started"
    done, _ = depression_plan()
    done.advance(days=40)
    done.run(c.DischargePlan(reason="Goals met."))
    care_plan = fhir.care_plan(done.state)
    assert care_plan["status"] == "completed"
    assert care_plan["period"]["end"] == done.today.isoformat()
    validate(care_plan)


def test_conditions_code_diagnoses_in_icd_10_cm(plan: Any) -> None:
    b, ids = plan
    resources = fhir.plan_resources(b.state, b.events)
    dx = _one(resources, f"{b.plan_id}-dx-F32.1")
    assert dx["code"]["coding"] == [
        {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "code": "F32.1",
            "display": "Major depressive disorder, single episode, moderate",
        }
    ]
    assert dx["clinicalStatus"]["coding"][0]["code"] == "active"
    assert dx["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert dx["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    removed = _one(resources, f"{b.plan_id}-dx-F41.1")
    assert removed["clinicalStatus"]["coding"][0]["code"] == "inactive"
    problem = _one(resources, ids["problem1"])
    assert problem["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert problem["evidence"][0]["detail"][0]["reference"] == f"Condition/{b.plan_id}-dx-F32.1"


def test_scores_use_loinc_where_known_and_text_otherwise(plan: Any) -> None:
    b, ids = plan
    resources = fhir.plan_resources(b.state, b.events)
    phq9, gad7, pcl5 = (_one(resources, ids[k]) for k in ("phq9", "gad7", "pcl5"))
    assert phq9["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "44261-6",
        "display": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    }
    assert phq9["code"]["text"] == "PHQ-9", "'phq9' as typed is shown by its canonical name"
    assert gad7["code"]["coding"][0]["code"] == "70274-6"
    assert pcl5["code"] == {"text": "PCL-5"}
    assert (phq9["status"], pcl5["status"]) == ("final", "entered-in-error")
    assert phq9["valueQuantity"]["value"] == 14
    assert (
        phq9["effectiveDateTime"] == b.state.measurements[ids["phq9"]].administered_on.isoformat()
    )
    assert phq9["category"][0]["coding"][0]["code"] == "survey"
    assert phq9["performer"][0]["reference"] == "Practitioner/dana"


def test_goal_achievement_follows_the_objective_status(plan: Any) -> None:
    b, ids = plan
    resources = fhir.plan_resources(b.state, b.events)

    def status(key: str) -> tuple[str, str | None]:
        goal = _one(resources, ids[key])
        achievement = goal.get("achievementStatus")
        return goal["lifecycleStatus"], achievement["coding"][0]["code"] if achievement else None

    assert status("objective11") == ("active", "improving")  # partially_met at the review
    assert status("objective12") == ("active", "not-achieved")
    assert status("objective21") == ("completed", "achieved")
    assert status("goal1") == ("active", "in-progress")
    assert status("goal2") == ("completed", "achieved")
    objective = _one(resources, ids["objective11"])
    assert objective["extension"][0]["valueReference"]["reference"] == f"Goal/{ids['goal1']}"
    target = objective["target"][0]
    assert target["measure"]["coding"][0]["code"] == "44261-6"
    assert target["detailQuantity"]["value"] == 9
    assert target["dueDate"] == "2026-05-01", "the amended target date"
    assert [o["reference"] for o in objective["outcomeReference"]] == [f"Observation/{ids['phq9']}"]
    assert "Baseline 19" in objective["note"][0]["text"]


def test_one_provenance_per_event_with_times_agent_and_reason(plan: Any) -> None:
    b, ids = plan
    resources = fhir.plan_resources(b.state, b.events)
    per_event = {r["id"]: r for r in _by_type(resources, "Provenance")}
    for event in b.events:
        provenance = per_event[f"{b.plan_id}-v{event.originator_version}"]
        assert provenance["target"][0]["reference"] == (
            f"CarePlan/{b.plan_id}/_history/{event.originator_version}"
        )
        assert provenance["recorded"] == event.recorded_at.isoformat().replace("+00:00", "Z")
        assert provenance["occurredDateTime"] == event.effective_date.isoformat()
        assert provenance["agent"][0]["who"]["reference"] == f"Practitioner/{event.actor.user_id}"
        assert provenance["activity"]["coding"][0]["code"] == type(event).__name__
        assert provenance.get("reason", [{}])[0].get("text") == event.rationale
    amended = per_event[f"{b.plan_id}-v{b.state.version - 1}"]
    assert amended["activity"]["text"] == "ObjectiveRevised (amendment)"
    assert amended["target"][1]["reference"] == f"Goal/{ids['objective11']}"


def test_signatures_are_provenance_with_astm_types_and_their_status(plan: Any) -> None:
    b, ids = plan
    resources = fhir.plan_resources(b.state, b.events)
    clinician = _one(resources, f"sig-{ids['clinician_signature']}")
    client = _one(resources, f"sig-{ids['client_signature']}")
    approval = _one(resources, f"sig-{ids['approval']}")
    signed = b.state.signatures[ids["clinician_signature"]].signed_version
    assert clinician["target"][0]["reference"] == f"CarePlan/{b.plan_id}/_history/{signed}"
    assert clinician["signature"][0]["type"][0] == {
        "system": "urn:iso-astm:E1762-95:2013",
        "code": "1.2.840.10065.1.12.1.1",
        "display": "Author's Signature",
    }
    assert clinician["signature"][0]["who"]["reference"] == "Practitioner/dana"
    assert client["signature"][0]["who"]["reference"] == "Patient/MRN-2001"
    assert client["signature"][0]["type"][0]["code"] == "1.2.840.10065.1.12.1.7"
    assert approval["signature"][0]["type"][0]["code"] == "1.2.840.10065.1.12.1.6"
    assert approval["extension"][0]["valueCode"] == "revoked"
    assert "revoked" in approval["reason"][0]["text"]
    assert clinician["extension"][0]["valueCode"] == "superseded", "the plan changed since"


def test_a_completed_review_is_provenance_of_the_version_it_made(plan: Any) -> None:
    b, ids = plan
    review = b.state.reviews[ids["review"]]
    provenance = _one(fhir.plan_resources(b.state, b.events), f"review-{ids['review']}")
    assert provenance["activity"]["text"] == "review"
    assert provenance["target"][0]["reference"] == (
        f"CarePlan/{b.plan_id}/_history/{review.completed_version}"
    )
    assert {"text": "Mood is lifting; the safety plan is written."} in provenance["reason"]


def test_history_lists_every_version_newest_first_with_weak_etags(plan: Any) -> None:
    b, _ = plan
    bundle = fhir.history(b.events, base_url=BASE)
    validate_bundle(bundle)
    entries = bundle["entry"]
    assert bundle["type"] == "history"
    assert len(entries) == bundle["total"] == b.state.version
    versions = [int(e["resource"]["meta"]["versionId"]) for e in entries]
    assert versions == list(range(b.state.version, 0, -1))
    assert [e["response"]["etag"] for e in entries[:2]] == [
        f'W/"{b.state.version}"',
        f'W/"{b.state.version - 1}"',
    ]
    assert entries[-1]["request"] == {"method": "POST", "url": f"CarePlan/{b.plan_id}"}
    assert entries[-1]["response"]["status"] == "201"
    assert entries[0]["request"]["method"] == "PUT"
    assert entries[0]["response"]["status"] == "200"
    assert entries[0]["resource"] == fhir.care_plan(b.state)
    assert entries[-1]["resource"] == fhir.care_plan(b.at(1))


def test_care_plan_versions_match_fresh_folds(plan: Any) -> None:
    b, _ = plan
    versions = dict(fhir.care_plan_versions(b.events))
    assert sorted(versions) == list(range(1, b.state.version + 1))
    for version in (1, 5, b.state.version // 2, b.state.version):
        assert versions[version] == fhir.care_plan(b.at(version))


def validate_bundle(bundle: dict[str, Any]) -> None:
    Bundle.model_validate(bundle)


def test_everything_and_collection_resolve_every_reference(plan: Any) -> None:
    b, _ = plan
    bundle = fhir.everything(b.state, b.events, base_url=BASE)
    validate_bundle(bundle)
    assert bundle["type"] == "searchset"
    assert bundle["entry"][0]["search"]["mode"] == "match"
    assert {e["search"]["mode"] for e in bundle["entry"][1:]} == {"include"}
    assert bundle["entry"][0]["fullUrl"] == f"{BASE}/CarePlan/{b.plan_id}"
    assert unresolved(bundle) == []
    for export in (
        fhir.collection(b.state, b.events),
        fhir.collection(b.state, b.events, base_url=BASE),
    ):
        validate_bundle(export)
        assert export["type"] == "collection"
        assert unresolved(export) == []
        assert len(export["entry"]) == len(bundle["entry"])
    urns = fhir.collection(b.state, b.events)
    assert all(e["fullUrl"].startswith("urn:uuid:") for e in urns["entry"])
    assert all(ref.startswith("urn:uuid:") for e in urns["entry"] for ref in references(e))


def test_an_earlier_state_resolves_too(plan: Any) -> None:
    b, _ = plan
    earlier = b.at(12)
    bundle = fhir.everything(earlier, b.events, base_url=BASE)
    assert bundle["entry"][0]["resource"]["meta"]["versionId"] == "12"
    assert (
        len([e for e in bundle["entry"] if e["resource"]["id"].startswith(f"{b.plan_id}-v")]) == 12
    )
    assert unresolved(bundle) == []


def test_ids_are_fhir_ids_even_for_unsafe_mrns_and_user_ids() -> None:
    assert fhir_id("MRN-2001") == "MRN-2001"
    odd = fhir_id("MRN 2001/b")
    assert FHIR_ID.fullmatch(odd)
    assert odd != fhir_id("MRN 2001_b"), "different raw ids never share a FHIR id"
    assert FHIR_ID.fullmatch(fhir_id("x" * 200))
    assert FHIR_ID.fullmatch(fhir_id("åäö"))


def test_search_set_outcome_and_capability_statement_parse() -> None:
    b, _ = depression_plan()
    bundle = fhir.search_set(
        [fhir.care_plan(b.state)],
        base_url=BASE,
        self_url=f"{BASE}/CarePlan?subject=Patient/MRN-2001",
    )
    validate_bundle(bundle)
    assert bundle["total"] == 1
    assert bundle["link"][0]["relation"] == "self"
    outcome = fhir.operation_outcome("not-found", "no such plan")
    assert OperationOutcome.model_validate(outcome).issue[0].code == "not-found"
    statement = fhir.capability_statement(base_url=BASE, software_version="0.1.0", now=b.now)
    parsed = CapabilityStatement.model_validate(statement)
    assert parsed.fhirVersion == fhir.FHIR_VERSION == "4.0.1"
    (care_plan,) = [r for r in statement["rest"][0]["resource"] if r["type"] == "CarePlan"]
    assert {i["code"] for i in care_plan["interaction"]} == {
        "read",
        "vread",
        "history-instance",
        "search-type",
    }
    assert {p["name"] for p in care_plan["searchParam"]} == {
        "_id",
        "_lastUpdated",
        "patient",
        "subject",
        "status",
        "category",
        "date",
        "_at",
        "effective-on",
    }
    assert care_plan["operation"][0]["name"] == "everything"


def test_a_minors_guardian_is_a_patient_contact_coded_guard() -> None:
    adult = Client(id="MRN-2001", name="Alex Moreno", date_of_birth=date(1988, 5, 17))
    assert "contact" not in patient(adult)
    minor = Client(
        id="MRN-2002",
        name="Ella Novak",
        date_of_birth=date(2011, 5, 25),
        guardian=Guardian(name="Petra Novak", relationship="mother", phone="555-0167"),
    )
    resource = patient(minor)
    validate(resource)
    [contact] = resource["contact"]
    assert contact["relationship"] == [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                    "code": "GUARD",
                    "display": "guardian",
                }
            ],
            "text": "mother",
        }
    ]
    assert contact["name"] == {"text": "Petra Novak"}
    assert contact["telecom"] == [{"system": "phone", "value": "555-0167"}]
    no_phone = minor.model_copy(
        update={"guardian": Guardian(name="Petra Novak", relationship="legal guardian")}
    )
    assert "telecom" not in patient(no_phone)["contact"][0]
