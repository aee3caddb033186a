"""Code systems and the mapping of plantrail's vocabularies onto FHIR R4 codes."""

from __future__ import annotations

from typing import Any

from plantrail.domain.instruments import canonical_instrument
from plantrail.domain.values import (
    GoalStatus,
    InterventionStatus,
    ObjectiveStatus,
    PlanStatus,
    SignatureMeaning,
)

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PROVENANCE_AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
US_CORE_CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
"""US Core CarePlan asks for the ``assess-plan`` category (an assessment and plan of care)."""

PLANTRAIL = "https://plantrail.dev/fhir"
CLIENT_ID_SYSTEM = f"{PLANTRAIL}/sid/client-id"
USER_ID_SYSTEM = f"{PLANTRAIL}/sid/user-id"
LICENSE_SYSTEM = f"{PLANTRAIL}/sid/license-number"
LABEL_SYSTEM = f"{PLANTRAIL}/sid/item-label"
EVENT_TYPE_SYSTEM = f"{PLANTRAIL}/CodeSystem/event-type"
ENTRY_KIND_SYSTEM = f"{PLANTRAIL}/CodeSystem/entry-kind"
REVIEW_REASON_SYSTEM = f"{PLANTRAIL}/CodeSystem/review-reason"
TASK_CODE_SYSTEM = f"{PLANTRAIL}/CodeSystem/task-code"
DENIAL_BASIS_SYSTEM = f"{PLANTRAIL}/CodeSystem/amendment-denial-basis"
EXT_PARENT_GOAL = f"{PLANTRAIL}/StructureDefinition/parent-goal"
EXT_ENTRY_KIND = f"{PLANTRAIL}/StructureDefinition/entry-kind"
EXT_LATE_ENTRY = f"{PLANTRAIL}/StructureDefinition/late-entry"
EXT_PRIMARY_DIAGNOSIS = f"{PLANTRAIL}/StructureDefinition/primary-diagnosis"
EXT_SIGNATURE_STATUS = f"{PLANTRAIL}/StructureDefinition/signature-status"
EXT_CONTENT_HASH = f"{PLANTRAIL}/StructureDefinition/content-hash"
EXT_COPY_FORWARD = f"{PLANTRAIL}/StructureDefinition/copy-forward-verdict"
"""A completed review's copy-forward verdict (``valueCode``: ``copied_forward``,
``nearly_copied_forward`` or ``updated``)."""
EXT_COPY_FORWARD_EXPLANATION = f"{PLANTRAIL}/StructureDefinition/copy-forward-explanation"
EXT_SUMMARY_SIMILARITY = f"{PLANTRAIL}/StructureDefinition/summary-similarity"
"""How closely a review's progress summary repeats the previous one (``valueDecimal``, 0–1)."""

LOINC_TOTAL_SCORES: dict[str, tuple[str, str | None]] = {
    "PHQ-9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    "GAD-7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
    # LOINC's published term 75624-7: component Total score, method AUDIT (panel 72110-0).
    "AUDIT": ("75624-7", "Total score [AUDIT]"),
    # LOINC's published term 82667-7: component Total Score, method DAST-10 (panel 82666-9);
    # no display, as LOINC's record as checked did not show its long common name.
    "DAST-10": ("82667-7", None),
}
"""Instruments whose total score has a LOINC code checked against LOINC's published record;
the others (PCL-5: no total-score term could be checked on LOINC's own record) are text only
(docs/fhir.md, Observation)."""


def instrument_concept(instrument: str) -> dict[str, Any]:
    """A CodeableConcept for an instrument's score: LOINC where known, its name as text always."""
    name = canonical_instrument(instrument)
    concept: dict[str, Any] = {"text": name}
    if name in LOINC_TOTAL_SCORES:
        code, display = LOINC_TOTAL_SCORES[name]
        coding = {"system": LOINC, "code": code}
        if display:
            coding["display"] = display
        concept["coding"] = [coding]
    return concept


CARE_PLAN_STATUS: dict[PlanStatus, str] = {
    "draft": "draft",
    "active": "active",
    "discharged": "completed",
}

AMENDMENT_TASK_STATUS: dict[str, str] = {
    "open": "received",
    "accepted": "completed",
    "denied": "rejected",
}
"""plantrail amendment request status → Task.status (ADR 0015)."""

GOAL_LIFECYCLE: dict[GoalStatus, tuple[str, str | None]] = {
    "active": ("active", "in-progress"),
    "achieved": ("completed", "achieved"),
    "retired": ("cancelled", None),
}
"""plantrail goal status → (Goal.lifecycleStatus, Goal.achievementStatus code or none)."""

OBJECTIVE_LIFECYCLE: dict[ObjectiveStatus, tuple[str, str | None]] = {
    "open": ("active", "in-progress"),
    "partially_met": ("active", "improving"),
    "not_met": ("active", "not-achieved"),
    "met": ("completed", "achieved"),
    "no_longer_relevant": ("cancelled", None),
}
"""plantrail objective status → (Goal.lifecycleStatus, Goal.achievementStatus code or none)."""

GOAL_ACHIEVEMENT_DISPLAY = {
    "in-progress": "In Progress",
    "improving": "Improving",
    "not-achieved": "Not Achieved",
    "achieved": "Achieved",
}

SIGNATURE_TYPES: dict[SignatureMeaning, tuple[str, str]] = {
    "authored": ("1.2.840.10065.1.12.1.1", "Author's Signature"),
    "agreed": ("1.2.840.10065.1.12.1.7", "Consent Signature"),
    "reviewed": ("1.2.840.10065.1.12.1.13", "Review Signature"),
    "approved": ("1.2.840.10065.1.12.1.6", "Validation Signature"),
}
"""plantrail signature meaning → ASTM E1762-95 signature type (ADR 0011)."""


def activity_status(status: InterventionStatus, plan_status: PlanStatus) -> str:
    """CarePlan.activity.detail.status of an intervention on a plan of ``plan_status``."""
    if status == "discontinued":
        return "stopped"
    if plan_status == "draft":
        return "not-started"
    if plan_status == "discharged":
        return "completed"
    return "in-progress"
