"""The server's CapabilityStatement: what a FHIR client may ask plantrail for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from plantrail.projections.fhir.codes import PLANTRAIL
from plantrail.projections.signatures import rfc3339

__all__ = ["FHIR_VERSION", "READ_ONLY_TYPES", "capability_statement"]

FHIR_VERSION = "4.0.1"
READ_ONLY_TYPES = (
    "Patient",
    "Practitioner",
    "Condition",
    "Goal",
    "Observation",
    "Provenance",
    "Task",
)
EVERYTHING = f"{PLANTRAIL}/OperationDefinition/CarePlan-everything"

_CARE_PLAN_PARAMS = [
    {
        "name": "subject",
        "definition": "http://hl7.org/fhir/SearchParameter/clinical-patient",
        "type": "reference",
        "documentation": "The plan's client: Patient/{id} (the MRN, made FHIR-id-safe).",
    },
    {
        "name": "_lastUpdated",
        "definition": "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
        "type": "date",
        "documentation": "When the plan's latest entry was recorded.",
    },
    {
        "name": "_at",
        "definition": f"{PLANTRAIL}/SearchParameter/CarePlan-at",
        "type": "date",
        "documentation": "plantrail: each plan as the chart stood at this instant (recorded time).",
    },
    {
        "name": "effective-on",
        "definition": f"{PLANTRAIL}/SearchParameter/CarePlan-effective-on",
        "type": "date",
        "documentation": "plantrail: each plan as in clinical effect on this date (effective "
        "dates), which FHIR's history cannot rebuild.",
    },
]


def capability_statement(*, base_url: str, software_version: str, now: datetime) -> dict[str, Any]:
    """A server CapabilityStatement: CarePlan read, vread, history and search, its $everything,
    and read of every other type the plan's resources use."""
    care_plan = {
        "type": "CarePlan",
        "interaction": [
            {"code": "read"},
            {"code": "vread"},
            {"code": "history-instance"},
            {"code": "search-type"},
        ],
        "versioning": "versioned",
        "readHistory": True,
        "searchParam": _CARE_PLAN_PARAMS,
        "operation": [
            {
                "name": "everything",
                "definition": EVERYTHING,
                "documentation": "The CarePlan with its Patient, Practitioners, Conditions, "
                "Goals, Observations, Provenance and amendment-request Tasks, as a "
                "searchset Bundle.",
            }
        ],
    }
    others = [{"type": name, "interaction": [{"code": "read"}]} for name in READ_ONLY_TYPES]
    return {
        "resourceType": "CapabilityStatement",
        "id": "plantrail",
        "status": "active",
        "date": rfc3339(now),
        "publisher": "plantrail",
        "kind": "instance",
        "software": {"name": "plantrail", "version": software_version},
        "implementation": {
            "description": "plantrail: immutable, verifiable history of psychotherapy "
            "treatment plans (read-only FHIR R4 view)",
            "url": base_url,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read-only. CarePlan versions are plan versions; Provenance "
                "records every event, signature and review.",
                "resource": [care_plan, *others],
            }
        ],
    }
