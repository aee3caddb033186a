"""One function per FHIR R4 resource: plain, JSON-ready dicts made from a plan state (and, where
the state does not say who recorded what, the plan's events). Pure: no store, no clock.

Every reference is relative (``Patient/MRN-2001``); a Bundle gives them a base. Items keep the
plan's own UUIDs as FHIR ids; docs/fhir.md tabulates every element.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import (
    Amendment,
    Diagnosis,
    Goal,
    Intervention,
    Measurement,
    Objective,
    PlanState,
    Problem,
    Review,
    Signature,
)
from plantrail.domain.values import Actor, Client, Clinician, Guardian
from plantrail.projections.fhir import codes
from plantrail.projections.fhir.ids import (
    diagnosis_id,
    event_provenance_id,
    fhir_id,
    patient_id,
    practitioner_id,
    reference,
    review_provenance_id,
    signature_provenance_id,
    versioned,
)
from plantrail.projections.fhir.narrative import with_text
from plantrail.projections.history import is_late
from plantrail.projections.signatures import rfc3339, signer_text

__all__ = [
    "amendment_task",
    "care_plan",
    "condition_for_diagnosis",
    "condition_for_problem",
    "event_provenance",
    "goal_for_goal",
    "goal_for_objective",
    "observation",
    "patient",
    "practitioners",
    "review_provenance",
    "signature_provenance",
]

Events = Mapping[int, PlanEvent]
"""The plan's events by version."""


def _subject(state: PlanState) -> dict[str, Any]:
    return reference("Patient", patient_id(state.client.id), state.client.name)


def _clinician_ref(clinician: Clinician) -> dict[str, Any]:
    return reference(
        "Practitioner",
        practitioner_id(clinician.user_id),
        signer_text(clinician.name, clinician.credentials),
    )


def _actor_ref(actor: Actor) -> dict[str, Any]:
    return reference(
        "Practitioner", practitioner_id(actor.user_id), signer_text(actor.name, actor.credentials)
    )


def _label(label: str) -> list[dict[str, Any]]:
    return [{"system": codes.LABEL_SYSTEM, "value": label}]


def _meta(state: PlanState) -> dict[str, Any]:
    return {"versionId": str(state.version), "lastUpdated": rfc3339(state.last_recorded_at)}


# ----------------------------------------------------------------------------- people
def patient(client: Client) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id(client.id),
        "identifier": [{"system": codes.CLIENT_ID_SYSTEM, "value": client.id}],
        "name": [{"text": client.name}],
        "birthDate": client.date_of_birth.isoformat(),
    }
    if client.guardian is not None:
        resource["contact"] = [_guardian(client.guardian)]
    return resource


def _guardian(guardian: Guardian) -> dict[str, Any]:
    """A minor's guardian as a Patient contact: v3 RoleCode ``GUARD`` (v2-0131 has no code for
    a guardian; its ``N`` is next of kin), the relationship in words as the text."""
    contact: dict[str, Any] = {
        "relationship": [
            {
                "coding": [{"system": codes.ROLE_CODE, "code": "GUARD", "display": "guardian"}],
                "text": guardian.relationship,
            }
        ],
        "name": {"text": guardian.name},
    }
    if guardian.phone:
        contact["telecom"] = [{"system": "phone", "value": guardian.phone}]
    return contact


def _practitioner(
    user_id: str, name: str, credentials: str | None, license_number: str | None
) -> dict[str, Any]:
    identifier = [{"system": codes.USER_ID_SYSTEM, "value": user_id}]
    if license_number:
        identifier.append({"system": codes.LICENSE_SYSTEM, "value": license_number})
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": practitioner_id(user_id),
        "identifier": identifier,
        "name": [{"text": name}],
    }
    if credentials:
        resource["qualification"] = [{"code": {"text": credentials}}]
    return resource


def _signer_practitioner(state: PlanState, signature: Signature) -> tuple[str, str | None] | None:
    """(user id, credentials) of a professional signer, or None for the client or a guardian."""
    if signature.role in ("client", "guardian"):
        return None
    if signature.signer_id:
        return signature.signer_id, signature.signer_credentials
    named = state.clinician if signature.role == "clinician" else state.supervisor
    if named is None:
        return None
    return named.user_id, signature.signer_credentials or named.credentials


def practitioners(state: PlanState, events: Sequence[PlanEvent]) -> list[dict[str, Any]]:
    """Every professional the plan's resources refer to, one Practitioner per user id: the
    clinician, the supervisor, each event's actor and each professional signer. Details seen
    first win; later sources only fill what is missing."""
    people: dict[str, dict[str, Any]] = {}

    def see(user_id: str, name: str, credentials: str | None, license_number: str | None) -> None:
        known = people.setdefault(
            user_id,
            {"name": name, "credentials": credentials, "license_number": license_number},
        )
        known["credentials"] = known["credentials"] or credentials
        known["license_number"] = known["license_number"] or license_number

    for clinician in (state.clinician, state.supervisor):
        if clinician is not None:
            see(clinician.user_id, clinician.name, clinician.credentials, clinician.license_number)
    for event in events:
        see(event.actor.user_id, event.actor.name, event.actor.credentials, None)
    for signature in state.signatures.values():
        signer = _signer_practitioner(state, signature)
        if signer is not None:
            see(signer[0], signature.signer_name, signer[1], None)
    return [
        _practitioner(user_id, p["name"], p["credentials"], p["license_number"])
        for user_id, p in people.items()
    ]


# ------------------------------------------------------------------------------ conditions
def _clinical_status(code: str) -> dict[str, Any]:
    return {"coding": [{"system": codes.CONDITION_CLINICAL, "code": code}]}


def _recorded(resource: dict[str, Any], events: Events, version: int) -> None:
    event = events.get(version)
    if event is not None:
        resource["recordedDate"] = rfc3339(event.recorded_at)
        resource["recorder"] = _actor_ref(event.actor)


def condition_for_diagnosis(
    state: PlanState, diagnosis: Diagnosis, events: Events
) -> dict[str, Any]:
    """A diagnosis on the plan (``removed`` ones stay, as inactive, with their abatement)."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": diagnosis_id(state.plan_id, diagnosis.code),
        "extension": [{"url": codes.EXT_PRIMARY_DIAGNOSIS, "valueBoolean": diagnosis.primary}],
        "clinicalStatus": _clinical_status(
            "active" if diagnosis.removed_version is None else "inactive"
        ),
        "verificationStatus": {
            "coding": [{"system": codes.CONDITION_VERIFICATION, "code": "confirmed"}]
        },
        "category": [
            {"coding": [{"system": codes.CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}
        ],
        "code": {
            "coding": [
                {"system": codes.ICD10CM, "code": diagnosis.code, "display": diagnosis.description}
            ],
            "text": diagnosis.description,
        },
        "subject": _subject(state),
        "onsetDateTime": diagnosis.effective_date.isoformat(),
    }
    if diagnosis.removed_version is not None:
        removal = events.get(diagnosis.removed_version)
        if removal is not None:
            resource["abatementDateTime"] = removal.effective_date.isoformat()
    _recorded(resource, events, diagnosis.added_version)
    return resource


def condition_for_problem(state: PlanState, problem: Problem, events: Events) -> dict[str, Any]:
    """A problem of the plan: a problem-list item, evidenced by the diagnoses it names."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": fhir_id(problem.id),
        "identifier": _label(problem.label),
        "clinicalStatus": _clinical_status(problem.status),
        "verificationStatus": {
            "coding": [{"system": codes.CONDITION_VERIFICATION, "code": "confirmed"}]
        },
        "category": [
            {"coding": [{"system": codes.CONDITION_CATEGORY, "code": "problem-list-item"}]}
        ],
        "code": {"text": problem.statement},
        "subject": _subject(state),
        "onsetDateTime": problem.effective_date.isoformat(),
    }
    evidence = [
        {"detail": [reference("Condition", diagnosis_id(state.plan_id, code))]}
        for code in problem.diagnosis_codes
        if code in state.diagnoses
    ]
    if evidence:
        resource["evidence"] = evidence
    _recorded(resource, events, problem.added_version)
    return resource


# ----------------------------------------------------------------------------------- goals
def _achievement(code: str | None) -> dict[str, Any]:
    if code is None:
        return {}
    coding = {
        "system": codes.GOAL_ACHIEVEMENT,
        "code": code,
        "display": codes.GOAL_ACHIEVEMENT_DISPLAY[code],
    }
    return {"achievementStatus": {"coding": [coding]}}


def goal_for_goal(state: PlanState, goal: Goal) -> dict[str, Any]:
    lifecycle, achievement = codes.GOAL_LIFECYCLE[goal.status]
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "id": fhir_id(goal.id),
        "identifier": _label(goal.label),
        "lifecycleStatus": lifecycle,
        **_achievement(achievement),
        "description": {"text": goal.statement},
        "subject": _subject(state),
        "startDate": goal.effective_date.isoformat(),
    }
    addresses = [
        reference("Condition", fhir_id(pid)) for pid in goal.problem_ids if pid in state.problems
    ]
    if addresses:
        resource["addresses"] = addresses
    if goal.client_words:
        resource["note"] = [{"text": f"In the client's words: {goal.client_words}"}]
    return resource


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def goal_for_objective(state: PlanState, objective: Objective) -> dict[str, Any]:
    """An objective: a Goal with a target, tied to its goal by the parent-goal extension and to
    its scores by ``outcomeReference``."""
    lifecycle, achievement = codes.OBJECTIVE_LIFECYCLE[objective.status]
    resource: dict[str, Any] = {"resourceType": "Goal", "id": fhir_id(objective.id)}
    if objective.goal_id in state.goals:
        resource["extension"] = [
            {
                "url": codes.EXT_PARENT_GOAL,
                "valueReference": reference("Goal", fhir_id(objective.goal_id)),
            }
        ]
    resource |= {
        "identifier": _label(objective.label),
        "lifecycleStatus": lifecycle,
        **_achievement(achievement),
        "description": {"text": objective.statement},
        "subject": _subject(state),
        "startDate": objective.effective_date.isoformat(),
    }
    target: dict[str, Any] = {}
    notes: list[dict[str, Any]] = []
    measure = objective.measure
    if measure is not None:
        target["measure"] = codes.instrument_concept(measure.instrument)
        if measure.target is not None:
            quantity: dict[str, Any] = {"value": _number(measure.target)}
            if measure.unit:
                quantity["unit"] = measure.unit
            target["detailQuantity"] = quantity
        baseline = (
            f"Baseline {_number(measure.baseline)}"
            if measure.baseline is not None
            else "No baseline recorded"
        )
        if measure.direction == "maintain" and measure.threshold is not None:
            # Kept within a range: the open-ended Range FHIR gives Goal.target.detail[x].
            bound: dict[str, Any] = {"value": _number(measure.threshold)}
            if measure.unit:
                bound["unit"] = measure.unit
            side = "high" if measure.keep == "at_most" else "low"
            target["detailRange"] = {side: bound}
            kept = "at most" if measure.keep == "at_most" else "at least"
            notes.append(
                {
                    "text": f"{baseline} ({measure.instrument}); to be kept {kept} "
                    f"{_number(measure.threshold)}."
                }
            )
        else:
            better = "lower" if measure.direction == "decrease" else "higher"
            notes.append({"text": f"{baseline} ({measure.instrument}); {better} is better."})
    if objective.target_date is not None:
        target["dueDate"] = objective.target_date.isoformat()
    if target:
        resource["target"] = [target]
    if objective.evidence:
        notes.append({"text": f"Evidence: {objective.evidence}"})
    if notes:
        resource["note"] = notes
    outcomes = [
        reference("Observation", fhir_id(m.id))
        for m in state.measurements.values()
        if m.objective_id == objective.id and m.voided_version is None
    ]
    if outcomes:
        resource["outcomeReference"] = outcomes
    return resource


# ---------------------------------------------------------------------------- observations
def observation(state: PlanState, measurement: Measurement, events: Events) -> dict[str, Any]:
    """A score: final, or entered-in-error once voided."""
    recorded = events.get(measurement.added_version)
    performer = _actor_ref(recorded.actor) if recorded else _clinician_ref(state.clinician)
    return {
        "resourceType": "Observation",
        "id": fhir_id(measurement.id),
        "identifier": _label(measurement.label),
        "status": "final" if measurement.voided_version is None else "entered-in-error",
        "category": [
            {
                "coding": [
                    {"system": codes.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}
                ]
            }
        ],
        "code": codes.instrument_concept(measurement.instrument),
        "subject": _subject(state),
        "effectiveDateTime": measurement.administered_on.isoformat(),
        "issued": rfc3339(measurement.recorded_at),
        "performer": [performer],
        "valueQuantity": {
            "value": _number(measurement.score),
            "unit": "score",
            "system": codes.UCUM,
            "code": "{score}",
        },
    }


# ------------------------------------------------------------------------------- care plan
def _activity(state: PlanState, intervention: Intervention) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "code": {"text": f"{intervention.modality}: {intervention.technique}"},
        "status": codes.activity_status(intervention.status, state.status),
        "scheduledString": intervention.frequency,
        "description": f"{intervention.label}: {intervention.technique}",
    }
    goals = [
        reference("Goal", fhir_id(oid))
        for oid in intervention.objective_ids
        if oid in state.objectives
    ]
    if goals:
        detail["goal"] = goals
    return {"detail": detail}


def _notes(state: PlanState) -> list[dict[str, Any]]:
    notes = [{"text": f"Strength: {s.text}"} for s in state.strengths]
    notes += [{"text": f"Barrier: {b.text}"} for b in state.barriers]
    if state.timeline is not None:
        notes.append(
            {
                "text": f"Timeline: {state.timeline.estimated_sessions} sessions, "
                f"{state.timeline.session_frequency}."
            }
        )
    notes += [{"text": f"Discharge criterion: {text}"} for text in state.discharge_criteria]
    if (safety := state.safety_plan) is not None:
        notes += [{"text": f"Safety plan warning sign: {x}"} for x in safety.warning_signs]
        notes += [{"text": f"Safety plan coping strategy: {x}"} for x in safety.coping_strategies]
        notes += [
            {
                "text": f"Safety plan contact: {x.name} ({x.kind.replace('_', ' ')})"
                + (f", {x.phone}" if x.phone else "")
            }
            for x in safety.contacts
        ]
        notes += [{"text": f"Safety plan means restriction: {x}"} for x in safety.means_restriction]
    if state.discharged_reason:
        notes.append({"text": f"Discharged: {state.discharged_reason}"})
    return notes


def care_plan(state: PlanState) -> dict[str, Any]:
    """The plan as a CarePlan; ``meta.versionId`` is the plan version."""
    contributors = [_clinician_ref(state.clinician)]
    if state.supervisor is not None:
        contributors.append(_clinician_ref(state.supervisor))
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(state.plan_id),
        "meta": _meta(state),
        "status": codes.CARE_PLAN_STATUS.get(state.status, "unknown"),
        "intent": "plan",
        "category": [
            {
                "coding": [
                    {
                        "system": codes.US_CORE_CAREPLAN_CATEGORY,
                        "code": "assess-plan",
                        "display": "Assessment and Plan of Treatment",
                    }
                ],
                "text": f"Psychotherapy treatment plan ({state.service_type})",
            }
        ],
        "title": f"Treatment plan for {state.client.name}",
        "subject": _subject(state),
        "period": {
            "start": state.effective_date.isoformat(),
            "end": (state.discharged_on or state.plan_end_date).isoformat(),
        },
        "created": rfc3339(state.opened_at),
        "author": _clinician_ref(state.clinician),
        "contributor": contributors,
    }
    addresses = [
        reference("Condition", diagnosis_id(state.plan_id, d.code), d.description)
        for d in state.diagnoses.values()
        if d.removed_version is None
    ] + [reference("Condition", fhir_id(p.id), p.label) for p in state.problems.values()]
    if addresses:
        resource["addresses"] = addresses
    goals = [reference("Goal", fhir_id(g.id), g.label) for g in state.goals.values()]
    goals += [reference("Goal", fhir_id(o.id), o.label) for o in state.objectives.values()]
    if goals:
        resource["goal"] = goals
    activities = [_activity(state, i) for i in state.interventions.values()]
    if activities:
        resource["activity"] = activities
    notes = _notes(state)
    if notes:
        resource["note"] = notes
    return with_text(resource)


# ---------------------------------------------------------------------- amendment requests
def _concerned(state: PlanState, item_id: str) -> dict[str, Any] | None:
    """The resource of one item an amendment request names, when it has one of its own."""
    if item_id in state.diagnoses:
        return reference("Condition", diagnosis_id(state.plan_id, item_id), f"Diagnosis {item_id}")
    for items, resource_type in (
        (state.problems, "Condition"),
        (state.goals, "Goal"),
        (state.objectives, "Goal"),
        (state.measurements, "Observation"),
    ):
        item = items.get(item_id)
        if item is not None:
            return reference(resource_type, fhir_id(item_id), item.label)
    if item_id in state.signatures:
        return reference("Provenance", signature_provenance_id(item_id))
    review = state.reviews.get(item_id)
    if review is not None and review.completed_version is not None:
        return reference("Provenance", review_provenance_id(item_id), review.label)
    return None


def _amendment_notes(state: PlanState, a: Amendment) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = [{"text": f"Reason given by the client: {a.reason}"}]
    if a.extension_reason and a.extended_on:
        notes.append(
            {
                "authorReference": _clinician_ref(state.clinician),
                "time": a.extended_on.isoformat(),
                "text": f"Deadline extended to {a.due_date.isoformat()}: {a.extension_reason}",
            }
        )
    if a.denial_text and a.decided_on:
        notes.append(
            {
                "authorString": a.decided_by or state.clinician.name,
                "time": a.decided_on.isoformat(),
                "text": f"Written denial: {a.denial_text}",
            }
        )
    if a.notified and a.decided_on:
        notes.append({"time": a.decided_on.isoformat(), "text": f"Notified: {a.notified}"})
    if a.disagreement_statement and a.disagreement_on:
        notes.append(
            {
                "authorString": a.requested_by,
                "time": a.disagreement_on.isoformat(),
                "text": f"Statement of disagreement: {a.disagreement_statement}",
            }
        )
    if a.rebuttal and a.rebuttal_on:
        notes.append(
            {
                "authorReference": _clinician_ref(state.clinician),
                "time": a.rebuttal_on.isoformat(),
                "text": f"Rebuttal: {a.rebuttal}",
            }
        )
    return notes


def amendment_task(state: PlanState, amendment: Amendment) -> dict[str, Any]:
    """A request to amend the plan (45 CFR 164.526) as a Task the practice must act on: its
    focus the CarePlan, its inputs the items it concerns, its due date the restriction's end;
    a denial is the status reason, and the statement of disagreement and the rebuttal are
    notes in the order they were filed (ADR 0015)."""
    a = amendment
    inputs: list[dict[str, Any]] = [
        {"type": {"text": "Concerns"}, "valueString": a.concerns},
        {"type": {"text": "Requested change"}, "valueString": a.requested_change},
    ]
    for item_id in a.item_ids:
        target = _concerned(state, item_id)
        inputs.append(
            {"type": {"text": "Item concerned"}, "valueReference": target}
            if target is not None
            else {"type": {"text": "Item concerned"}, "valueString": item_id}
        )
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": fhir_id(f"amendment-{a.id}"),
        "identifier": [{"system": codes.LABEL_SYSTEM, "value": a.label}],
        "status": codes.AMENDMENT_TASK_STATUS[a.status],
        "intent": "proposal",
        "code": {
            "coding": [
                {
                    "system": codes.TASK_CODE_SYSTEM,
                    "code": "amendment-request",
                    "display": "Request to amend the record (45 CFR 164.526)",
                }
            ],
            "text": "Request to amend the record (45 CFR 164.526)",
        },
        "description": a.requested_change,
        "focus": reference(
            "CarePlan", str(state.plan_id), f"treatment plan for {state.client.name}"
        ),
        "for": _subject(state),
        "authoredOn": a.received_on.isoformat(),
        "requester": {"display": a.requested_by},
        "owner": _clinician_ref(state.clinician),
        "reasonCode": {"text": a.reason},
        "restriction": {"period": {"end": a.due_date.isoformat()}},
        "input": inputs,
        "note": _amendment_notes(state, a),
    }
    if a.decided_on is not None:
        resource["lastModified"] = a.decided_on.isoformat()
    if a.denial_basis is not None:
        resource["statusReason"] = {
            "coding": [{"system": codes.DENIAL_BASIS_SYSTEM, "code": a.denial_basis}],
            "text": a.denial_text,
        }
    if a.carried_out_in_version is not None:
        resource["output"] = [
            {
                "type": {"text": "Amendment"},
                "valueReference": versioned(state.plan_id, a.carried_out_in_version),
            }
        ]
    return resource


# ------------------------------------------------------------------------------ provenance
def _signer_ref(state: PlanState, signature: Signature) -> dict[str, Any]:
    display = signer_text(signature.signer_name, signature.signer_credentials)
    if signature.role == "client":
        return reference("Patient", patient_id(state.client.id), display)
    if signature.role == "guardian":
        return {"display": f"{display} (guardian)"}
    signer = _signer_practitioner(state, signature)
    if signer is None:
        return {"display": f"{display} ({signature.role})"}
    return reference("Practitioner", practitioner_id(signer[0]), display)


def signature_provenance(state: PlanState, signature: Signature) -> dict[str, Any]:
    """A captured signature: who signed which version, when, meaning what; its plantrail status
    (current, superseded, revoked) rides in an extension and the reason text."""
    code, display = codes.SIGNATURE_TYPES[signature.meaning]
    who = _signer_ref(state, signature)
    agent: dict[str, Any] = {"who": who}
    if signature.role == "guardian":
        agent["onBehalfOf"] = _subject(state)
    status = signature.status
    reason = f"{signature.role} signature ({signature.meaning}): {status}"
    if signature.revoked_version is not None:
        reason += f", revoked at version {signature.revoked_version}"
    elif signature.superseded_by_version is not None:
        reason += f", superseded by version {signature.superseded_by_version}"
    return {
        "resourceType": "Provenance",
        "id": signature_provenance_id(signature.id),
        "extension": [
            {"url": codes.EXT_SIGNATURE_STATUS, "valueCode": status},
            {"url": codes.EXT_CONTENT_HASH, "valueString": signature.content_hash},
        ],
        "target": [versioned(state.plan_id, signature.signed_version)],
        "occurredDateTime": signature.effective_date.isoformat(),
        "recorded": rfc3339(signature.signed_at),
        "reason": [{"text": reason}],
        "activity": {"text": "signature"},
        "agent": [agent],
        "signature": [
            {
                "type": [{"system": codes.SIGNATURE_TYPE, "code": code, "display": display}],
                "when": rfc3339(signature.signed_at),
                "who": who,
            }
        ],
    }


def _verdict_extensions(verdict: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A review's copy-forward verdict, its explanation and its summary similarity."""
    if not verdict:
        return []
    out: list[dict[str, Any]] = [{"url": codes.EXT_COPY_FORWARD, "valueCode": verdict["verdict"]}]
    if verdict.get("explanation"):
        out.append(
            {"url": codes.EXT_COPY_FORWARD_EXPLANATION, "valueString": verdict["explanation"]}
        )
    if verdict.get("summary_similarity") is not None:
        out.append(
            {"url": codes.EXT_SUMMARY_SIMILARITY, "valueDecimal": verdict["summary_similarity"]}
        )
    return out


def review_provenance(
    state: PlanState,
    review: Review,
    events: Events,
    verdict: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A completed review: the plan version it produced, why and what it concluded, and its
    copy-forward ``verdict`` when given (``plantrail.projections.copy_forward``)."""
    assert review.completed_version is not None
    completed = events.get(review.completed_version)
    agent = _actor_ref(completed.actor) if completed else _clinician_ref(state.clinician)
    reasons: list[dict[str, Any]] = [
        {
            "coding": [{"system": codes.REVIEW_REASON_SYSTEM, "code": review.reason}],
            "text": f"{review.label}: {review.reason} review",
        }
    ]
    if review.progress_summary:
        reasons.append({"text": review.progress_summary})
    if review.client_input:
        reasons.append({"text": f"Client input: {review.client_input}"})
    completed_at = review.completed_at or review.started_at
    day = review.completed_effective_date or review.effective_date
    return {
        "resourceType": "Provenance",
        "id": review_provenance_id(review.id),
        "target": [versioned(state.plan_id, review.completed_version)]
        + [
            reference("Goal", fhir_id(a.objective_id))
            for a in review.assessments
            if a.objective_id in state.objectives
        ],
        "occurredPeriod": {"start": review.effective_date.isoformat(), "end": day.isoformat()},
        "recorded": rfc3339(completed_at),
        "reason": reasons,
        "activity": {"text": "review"},
        "agent": [{"who": agent}],
        **({"extension": extensions} if (extensions := _verdict_extensions(verdict)) else {}),
    }


_ITEM_FIELDS = (
    ("objective_id", "Goal"),
    ("goal_id", "Goal"),
    ("problem_id", "Condition"),
    ("measurement_id", "Observation"),
)


def _item_target(state: PlanState, event: PlanEvent) -> dict[str, Any] | None:
    """The resource (other than the CarePlan) an event is about, when it exists in ``state``."""
    present: dict[str, Mapping[str, object]] = {
        "objective_id": state.objectives,
        "goal_id": state.goals,
        "problem_id": state.problems,
        "measurement_id": state.measurements,
    }
    for field, resource_type in _ITEM_FIELDS:
        item_id = getattr(event, field, None)
        if isinstance(item_id, str) and item_id in present[field]:
            return reference(resource_type, fhir_id(item_id))
    code = getattr(event, "code", None)
    if isinstance(code, str) and code in state.diagnoses:
        return reference("Condition", diagnosis_id(state.plan_id, code))
    return None


def event_provenance(state: PlanState, event: PlanEvent) -> dict[str, Any]:
    """One event of the legal record: which version it made, who, when recorded, when in
    clinical effect, why and what kind of entry."""
    version = event.originator_version
    targets = [versioned(event.originator_id, version)]
    item = _item_target(state, event)
    if item is not None:
        targets.append(item)
    kind = event.entry_kind
    late = is_late(event)
    text = event.event_type if kind == "original" else f"{event.event_type} ({kind})"
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": event_provenance_id(event.originator_id, version),
        "extension": [
            {"url": codes.EXT_ENTRY_KIND, "valueCode": kind},
            {"url": codes.EXT_LATE_ENTRY, "valueBoolean": late},
        ],
        "target": targets,
        "occurredDateTime": event.effective_date.isoformat(),
        "recorded": rfc3339(event.recorded_at),
        "activity": {
            "coding": [
                {"system": codes.EVENT_TYPE_SYSTEM, "code": event.event_type},
            ],
            "text": text,
        },
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": codes.PROVENANCE_AGENT_TYPE,
                            "code": "author",
                            "display": "Author",
                        }
                    ]
                },
                "who": _actor_ref(event.actor),
            }
        ],
    }
    if event.rationale:
        resource["reason"] = [{"text": event.rationale}]
    return resource
