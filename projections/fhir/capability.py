"""The server's CapabilityStatement: what a FHIR client may ask plantrail for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from plantrail.projections.fhir.search import PARAMS
from plantrail.projections.signatures import rfc3339

__all__ = [
    "CARE_PLAN_INTERACTIONS",
    "EVERYTHING",
    "FHIR_VERSION",
    "OTHER_INTERACTIONS",
    "READ_ONLY_TYPES",
    "capability_statement",
    "everything_definition",
]

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
EVERYTHING = "OperationDefinition/CarePlan-everything"
"""Where $everything's OperationDefinition is served, relative to the FHIR base. Its canonical
URL is that address on the serving base, so the URL the CapabilityStatement names resolves."""
CARE_PLAN_INTERACTIONS = ("read", "vread", "history-instance", "search-type")
OTHER_INTERACTIONS = ("read", "search-type")


def capability_statement(*, base_url: str, software_version: str, now: datetime) -> dict[str, Any]:
    """A server CapabilityStatement, generated from what the routes serve: CarePlan read,
    vread, history and search, its $everything; read and search of every other type the
    plan's resources use, with exactly the search parameters ``search.PARAMS`` declares."""

    def params(resource_type: str) -> list[dict[str, Any]]:
        return [
            {
                "name": p.name,
                "definition": p.definition,
                # plantrail's own time points (_at, effective-on) take dates.
                "type": "date" if p.kind == "special" else p.kind,
                "documentation": p.documentation,
            }
            for p in PARAMS[resource_type]
        ]

    care_plan = {
        "type": "CarePlan",
        "interaction": [{"code": code} for code in CARE_PLAN_INTERACTIONS],
        "versioning": "versioned",
        "readHistory": True,
        "conditionalRead": "not-match",
        "searchParam": params("CarePlan"),
        "operation": [
            {
                "name": "everything",
                "definition": f"{base_url.rstrip('/')}/{EVERYTHING}",
                "documentation": "The CarePlan with its Patient, Practitioners, Conditions, "
                "Goals, Observations, Provenance and amendment-request Tasks, as a "
                "searchset Bundle (GET or POST).",
            }
        ],
    }
    others = [
        {
            "type": name,
            "interaction": [{"code": code} for code in OTHER_INTERACTIONS],
            "versioning": "versioned",
            "readHistory": False,
            "conditionalRead": "not-match",
            "searchParam": params(name),
        }
        for name in READ_ONLY_TYPES
    ]
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


def everything_definition(*, base_url: str) -> dict[str, Any]:
    """The OperationDefinition of ``CarePlan/{id}/$everything`` (plantrail's own: R4's
    $everything is defined for Patient and Encounter only)."""
    return {
        "resourceType": "OperationDefinition",
        "id": "CarePlan-everything",
        "url": f"{base_url.rstrip('/')}/{EVERYTHING}",
        "name": "CarePlanEverything",
        "title": "Everything of a treatment plan",
        "status": "active",
        "kind": "operation",
        "publisher": "plantrail",
        "description": "The CarePlan with everything it and its Provenance refer to: Patient, "
        "Practitioners, Conditions, Goals, Observations, Provenance and amendment-request "
        "Tasks. With _at or effective-on, the plan as it stood then.",
        "code": "everything",
        "resource": ["CarePlan"],
        "system": False,
        "type": False,
        "instance": True,
        "affectsState": False,
        "parameter": [
            {
                "name": "_at",
                "use": "in",
                "min": 0,
                "max": "1",
                "type": "instant",
                "documentation": "The plan as the chart stood at this instant.",
            },
            {
                "name": "effective-on",
                "use": "in",
                "min": 0,
                "max": "1",
                "type": "date",
                "documentation": "The plan as in clinical effect on this date.",
            },
            {
                "name": "return",
                "use": "out",
                "min": 1,
                "max": "1",
                "type": "Bundle",
                "documentation": "A searchset: the CarePlan the one match, the rest included.",
            },
        ],
    }
