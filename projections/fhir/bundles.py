"""Bundles of a plan's resources: its $everything searchset, an export collection, its CarePlan
history, a CarePlan search result; and OperationOutcome for errors. Pure."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from plantrail.domain import events as ev
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState, apply, start
from plantrail.projections.fhir import resources as r
from plantrail.projections.fhir.narrative import with_text
from plantrail.projections.fhir.versions import stamp
from plantrail.projections.reviews import judged_reviews
from plantrail.projections.signatures import rfc3339

__all__ = [
    "care_plan_versions",
    "collection",
    "everything",
    "history",
    "operation_outcome",
    "plan_resources",
    "search_set",
]

_URN_NAMESPACE = uuid.UUID("6f1c3e0a-7d5b-5c8e-9a4f-2b1d0c3e4f5a")
"""Namespace of the ``urn:uuid`` full URLs of an export collection (uuid5 of ``Type/id``)."""

_LITERAL = re.compile(r"(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(/_history/\d+)?")


def plan_resources(state: PlanState, events: Sequence[PlanEvent]) -> list[dict[str, Any]]:
    """Every resource of the plan at ``state``: CarePlan, Patient, Practitioners, Conditions
    (diagnoses, then problems), Goals (goals, then objectives), Observations, Provenance
    (signatures, completed reviews, then one per event), then a Task per amendment request.
    ``events`` are the events folded into
    ``state``; later ones are ignored."""
    folded = [e for e in events if e.originator_version <= state.version]
    by_version = {e.originator_version: e for e in folded}
    resources: list[dict[str, Any]] = [r.care_plan(state), r.patient(state.client)]
    resources += r.practitioners(state, folded)
    resources += [r.condition_for_diagnosis(state, d, by_version) for d in state.diagnoses.values()]
    resources += [r.condition_for_problem(state, p, by_version) for p in state.problems.values()]
    resources += [r.goal_for_goal(state, g) for g in state.goals.values()]
    resources += [r.goal_for_objective(state, o) for o in state.objectives.values()]
    resources += [r.observation(state, m, by_version) for m in state.measurements.values()]
    resources += [r.signature_provenance(state, s) for s in state.signatures.values()]
    _, judged = judged_reviews(folded)
    verdicts = {j.event.review_id: j.verdict for j in judged}
    resources += [
        r.review_provenance(state, v, by_version, verdicts.get(v.id))
        for v in state.completed_reviews
    ]
    resources += [r.event_provenance(state, e) for e in folded]
    resources += [r.amendment_task(state, a) for a in state.amendments.values()]
    # The CarePlan has its narrative already (``care_plan``); the text is part of what the
    # versionId digests, so it is added before ``stamp``.
    return stamp([x if x.get("text") else with_text(x) for x in resources], state, folded)


def _full_url(base_url: str, resource: dict[str, Any]) -> str:
    return f"{base_url.rstrip('/')}/{resource['resourceType']}/{resource['id']}"


def everything(state: PlanState, events: Sequence[PlanEvent], *, base_url: str) -> dict[str, Any]:
    """``CarePlan/{id}/$everything``: a searchset whose one match is the CarePlan and whose
    includes are everything it and its Provenance refer to. ``total`` counts matches (1), as
    FHIR defines it for a searchset."""
    resources = plan_resources(state, events)
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 1,
        "link": [
            {
                "relation": "self",
                "url": f"{base_url.rstrip('/')}/CarePlan/{state.plan_id}/$everything",
            }
        ],
        "entry": [
            {
                "fullUrl": _full_url(base_url, resource),
                "resource": resource,
                "search": {"mode": "match" if index == 0 else "include"},
            }
            for index, resource in enumerate(resources)
        ],
    }


def urn(resource_type: str, resource_id: str) -> str:
    """The ``urn:uuid`` full URL an export collection gives ``resource_type/resource_id``."""
    return f"urn:uuid:{uuid.uuid5(_URN_NAMESPACE, f'{resource_type}/{resource_id}')}"


def _to_urns(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            match = (
                _LITERAL.fullmatch(item) if key == "reference" and isinstance(item, str) else None
            )
            out[key] = urn(match["type"], match["id"]) if match else _to_urns(item)
        return out
    if isinstance(value, list):
        return [_to_urns(item) for item in value]
    return value


def collection(
    state: PlanState, events: Sequence[PlanEvent], *, base_url: str | None = None
) -> dict[str, Any]:
    """The plan's resources as a ``collection`` Bundle (the NDJSON export's source).

    With ``base_url``, full URLs are ``{base_url}/{type}/{id}`` and references stay relative.
    Without, full URLs are ``urn:uuid:`` (stable: uuid5 of ``Type/id``) and every literal
    reference is rewritten to its entry's URN, so the Bundle resolves with no server at all;
    a version-specific reference to the CarePlan keeps its version in the reference's display.
    """
    resources = plan_resources(state, events)
    if base_url is not None:
        entries = [{"fullUrl": _full_url(base_url, x), "resource": x} for x in resources]
    else:
        entries = [
            {"fullUrl": urn(x["resourceType"], x["id"]), "resource": _to_urns(x)} for x in resources
        ]
    return {
        "resourceType": "Bundle",
        # One collection per plan version: an export line names what it holds.
        "id": f"{state.plan_id}-bundle-v{state.version}",
        "type": "collection",
        "timestamp": rfc3339(state.last_recorded_at),
        "entry": entries,
    }


def care_plan_versions(events: Sequence[PlanEvent]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(version, CarePlan as of that version)`` for every event, in one incremental fold."""
    state: PlanState | None = None
    for event in events:
        if state is None:
            if not isinstance(event, ev.PlanOpened):
                raise ValueError("a plan's history starts with PlanOpened")
            state = start(event)
        else:
            apply(state, event)
        yield state.version, r.care_plan(state)


def history(events: Sequence[PlanEvent], *, base_url: str) -> dict[str, Any]:
    """``CarePlan/{id}/_history``: every version of the CarePlan, newest first."""
    base = base_url.rstrip("/")
    versions = list(care_plan_versions(events))
    versions.reverse()
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history", "total": len(versions)}
    if events:
        bundle["link"] = [
            {"relation": "self", "url": f"{base}/CarePlan/{events[0].originator_id}/_history"}
        ]
    bundle["entry"] = [
        {
            "fullUrl": f"{base}/CarePlan/{plan['id']}",
            "resource": plan,
            "request": {
                "method": "POST" if version == 1 else "PUT",
                "url": f"CarePlan/{plan['id']}",
            },
            "response": {
                "status": "201" if version == 1 else "200",
                "etag": f'W/"{version}"',
                "lastModified": plan["meta"]["lastUpdated"],
            },
        }
        for version, plan in versions
    ]
    return bundle


def search_set(
    care_plans: Sequence[dict[str, Any]], *, base_url: str, self_url: str
) -> dict[str, Any]:
    """A CarePlan search result: every plan a match, ``total`` their number."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(care_plans),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {"fullUrl": _full_url(base_url, plan), "resource": plan, "search": {"mode": "match"}}
            for plan in care_plans
        ],
    }


def operation_outcome(code: str, diagnostics: str, *, severity: str = "error") -> dict[str, Any]:
    """An OperationOutcome with one issue; ``code`` is from FHIR's issue-type value set."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }
