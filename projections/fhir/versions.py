"""``meta.versionId`` and ``meta.lastUpdated`` of the resources other than the CarePlan.

The CarePlan's version is the plan version. The other resources have no version of their own
in the event store: a Goal is one item of the plan, and a Patient appears on every plan of the
client. Their ``versionId`` is therefore a digest of their content: it changes exactly when the
resource changes, and is the same whichever plan or request renders it, so ``ETag`` and
``If-None-Match`` are exact (docs/fhir.md, "Versions"). ``lastUpdated`` is the recorded time of
the latest event that names the item (a Goal, Condition, Observation, Task or signature or
review Provenance); a Patient or Practitioner, which no event names, takes the plan's latest
recorded time, which is never earlier than its real change. Pure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState
from plantrail.projections.fhir.ids import (
    diagnosis_id,
    event_provenance_id,
    fhir_id,
    review_provenance_id,
    signature_provenance_id,
)
from plantrail.projections.signatures import rfc3339

__all__ = ["content_version", "stamp"]


def content_version(resource: dict[str, Any]) -> str:
    """16 hex digits of the SHA-256 of the resource without its ``meta``: a FHIR id."""
    body = {key: value for key, value in resource.items() if key != "meta"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _touched(state: PlanState, events: Sequence[PlanEvent]) -> dict[tuple[str, str], datetime]:
    """(resource type, FHIR id) → recorded time of the latest event that names it."""
    out: dict[tuple[str, str], datetime] = {}

    def see(key: tuple[str, str], when: datetime) -> None:
        if key not in out or when > out[key]:
            out[key] = when

    for event in events:
        when = event.recorded_at
        see(
            ("Provenance", event_provenance_id(event.originator_id, event.originator_version)), when
        )
        for field, kind in (
            ("objective_id", "Goal"),
            ("goal_id", "Goal"),
            ("problem_id", "Condition"),
        ):
            item = getattr(event, field, None)
            if isinstance(item, str):
                see((kind, fhir_id(item)), when)
        measurement = getattr(event, "measurement_id", None)
        if isinstance(measurement, str):
            see(("Observation", fhir_id(measurement)), when)
            # A score recorded or voided changes its objective's outcomeReference.
            scored = state.measurements.get(measurement)
            if scored is not None and scored.objective_id:
                see(("Goal", fhir_id(scored.objective_id)), when)
        code = getattr(event, "code", None)
        if isinstance(code, str) and code in state.diagnoses:
            see(("Condition", diagnosis_id(state.plan_id, code)), when)
        amendment = getattr(event, "amendment_id", None)
        if isinstance(amendment, str):
            see(("Task", fhir_id(f"amendment-{amendment}")), when)
        review = getattr(event, "review_id", None)
        if isinstance(review, str):
            see(("Provenance", review_provenance_id(review)), when)
        signature = getattr(event, "signature_id", None)
        if isinstance(signature, str):
            see(("Provenance", signature_provenance_id(signature)), when)
    by_version = {event.originator_version: event for event in events}
    for signature in state.signatures.values():
        # A content change supersedes a signature without naming it.
        key = ("Provenance", signature_provenance_id(signature.id))
        see(key, signature.signed_at)
        for version in (signature.superseded_by_version, signature.revoked_version):
            changed = by_version.get(version) if version is not None else None
            if changed is not None:
                see(key, changed.recorded_at)
    return out


def stamp(
    resources: list[dict[str, Any]], state: PlanState, events: Sequence[PlanEvent]
) -> list[dict[str, Any]]:
    """``resources`` with ``meta`` set on each but the CarePlan (which carries the plan
    version already); ``events`` are those folded into ``state``."""
    touched = _touched(state, events)
    fallback = state.last_recorded_at
    for resource in resources:
        if resource["resourceType"] == "CarePlan":
            continue
        when = touched.get((resource["resourceType"], resource["id"]), fallback)
        meta = {"versionId": content_version(resource), "lastUpdated": rfc3339(min(when, fallback))}
        # meta right after the id, as FHIR's JSON examples order it.
        kind, resource_id = resource["resourceType"], resource["id"]
        rest = {k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")}
        resource.clear()
        resource.update({"resourceType": kind, "id": resource_id, "meta": meta, **rest})
    return resources
