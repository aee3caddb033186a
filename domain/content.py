"""The plan's clinical content and its hash: what a signature binds to (21 CFR 11.70).

Content is the plan language a signer agrees to: header, diagnoses, problems, goals, objectives,
interventions, strengths, barriers, timeline and discharge criteria, with their statuses.
Measurements (observations), reviews, signatures and rationales are not content: a new PHQ-9
score must not silently invalidate the client's signature.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from plantrail.domain.plan import PlanState
from plantrail.domain.values import Client, Measure


def _measure(measure: Measure) -> dict[str, Any]:
    """A measure's content; the 0.2.0 maintain fields only when set, so that the content hash
    of every plan written before them is unchanged."""
    data = measure.model_dump(mode="json")
    for field in Measure.field_since:
        if data.get(field) is None:
            data.pop(field, None)
    return data


def _client(client: Client) -> dict[str, Any]:
    """The client's content; the 0.3.0 guardian only when named, so that the content hash of
    every plan written before it is unchanged."""
    data = client.model_dump(mode="json")
    if data.get("guardian") is None:
        data.pop("guardian", None)
    return data


def plan_content(state: PlanState) -> dict[str, Any]:
    """The signable content of ``state`` as plain JSON-able data, in a stable order. Sections
    added in 0.2.0 (participants, safety plan) appear only when present, for the same reason."""
    content = _content(state)
    if state.participants:
        content["participants"] = [p.model_dump(mode="json") for p in state.participants]
    if (safety := state.safety_plan) is not None:
        content["safety_plan"] = {
            "warning_signs": list(safety.warning_signs),
            "coping_strategies": list(safety.coping_strategies),
            "contacts": [c.model_dump(mode="json") for c in safety.contacts],
            "means_restriction": list(safety.means_restriction),
        }
    return content


def _content(state: PlanState) -> dict[str, Any]:
    return {
        "client": _client(state.client),
        "clinician": state.clinician.model_dump(mode="json"),
        "supervisor": state.supervisor.model_dump(mode="json") if state.supervisor else None,
        "effective_date": state.effective_date.isoformat(),
        "plan_end_date": state.plan_end_date.isoformat(),
        "review_interval_days": state.review_interval_days,
        "service_type": state.service_type,
        "session_minutes": state.session_minutes,
        "diagnoses": [
            {"code": d.code, "description": d.description, "primary": d.primary}
            for d in state.diagnoses.values()
            if d.removed_version is None
        ],
        "problems": [
            {
                "id": p.id,
                "label": p.label,
                "statement": p.statement,
                "diagnosis_codes": p.diagnosis_codes,
                "status": p.status,
            }
            for p in state.problems.values()
        ],
        "goals": [
            {
                "id": g.id,
                "label": g.label,
                "statement": g.statement,
                "problem_ids": g.problem_ids,
                "client_words": g.client_words,
                "status": g.status,
            }
            for g in state.goals.values()
        ],
        "objectives": [
            {
                "id": o.id,
                "label": o.label,
                "goal_id": o.goal_id,
                "statement": o.statement,
                "measure": _measure(o.measure) if o.measure else None,
                "target_date": o.target_date.isoformat() if o.target_date else None,
                "status": o.status,
            }
            for o in state.objectives.values()
        ],
        "interventions": [
            {
                "id": i.id,
                "label": i.label,
                "modality": i.modality,
                "technique": i.technique,
                "frequency": i.frequency,
                "objective_ids": i.objective_ids,
                "status": i.status,
            }
            for i in state.interventions.values()
        ],
        "strengths": [s.text for s in state.strengths],
        "barriers": [b.text for b in state.barriers],
        "timeline": state.timeline.model_dump(mode="json") if state.timeline else None,
        "discharge_criteria": list(state.discharge_criteria),
    }


def canonical_json(data: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(state: PlanState) -> str:
    """``sha256:<hex>`` of the canonical JSON of the plan's content."""
    return "sha256:" + hashlib.sha256(canonical_json(plan_content(state))).hexdigest()
