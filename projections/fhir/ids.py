"""FHIR ids and references for plantrail's records.

A FHIR id is 1 to 64 of ``A-Z a-z 0-9 - .``. plantrail's own ids (plan and item UUIDs) already
are; a practice's MRN or a user id may not be, so ``fhir_id`` keeps a safe id unchanged and
otherwise replaces the bad characters and appends a digest of the original, so that two
different raw ids never meet on one FHIR id.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from uuid import UUID

__all__ = [
    "FHIR_ID",
    "diagnosis_id",
    "event_provenance_id",
    "fhir_id",
    "patient_id",
    "practitioner_id",
    "reference",
    "review_provenance_id",
    "signature_provenance_id",
    "versioned",
]

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""The R4 ``id`` datatype (match with ``fullmatch``)."""


def fhir_id(raw: str) -> str:
    """``raw`` when it is a valid FHIR id, else a safe id derived from it (stable, ≤ 64)."""
    if FHIR_ID.fullmatch(raw):
        return raw
    digest = hashlib.sha256(raw.encode()).hexdigest()[:12]
    cleaned = re.sub(r"[^A-Za-z0-9\-.]+", "-", raw).strip("-")[:51]
    return f"{cleaned}-{digest}" if cleaned else digest


def patient_id(client_id: str) -> str:
    """The client's MRN (the practice's identifier), made FHIR-id-safe."""
    return fhir_id(client_id)


def practitioner_id(user_id: str) -> str:
    """A user's id, made FHIR-id-safe: one Practitioner per user across every plan."""
    return fhir_id(user_id)


def diagnosis_id(plan_id: UUID, code: str) -> str:
    """A diagnosis has no item id; its ICD-10-CM code is unique on one plan."""
    return fhir_id(f"{plan_id}-dx-{code}")


def event_provenance_id(plan_id: UUID, version: int) -> str:
    return f"{plan_id}-v{version}"


def signature_provenance_id(signature_id: str) -> str:
    """Signature ids are UUIDs derived from the plan id, so unique across plans."""
    return fhir_id(f"sig-{signature_id}")


def review_provenance_id(review_id: str) -> str:
    return fhir_id(f"review-{review_id}")


def reference(resource_type: str, resource_id: str, display: str | None = None) -> dict[str, Any]:
    """A relative literal reference (``{"reference": "Patient/MRN-1"}``), maybe with a display."""
    ref: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def versioned(plan_id: UUID, version: int) -> dict[str, Any]:
    """A version-specific reference to the CarePlan as it stood at ``version``."""
    return {
        "reference": f"CarePlan/{plan_id}/_history/{version}",
        "display": f"treatment plan, version {version}",
    }
