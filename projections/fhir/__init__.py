"""The plan as FHIR R4 resources: plain JSON-ready dicts, no FHIR library at runtime (ADR 0011).

``care_plan`` renders a plan state; ``plan_resources`` everything the plan refers to; the
bundle functions wrap them for ``$everything``, export, history and search. docs/fhir.md maps
every element.
"""

from __future__ import annotations

from plantrail.projections.fhir.bundles import (
    care_plan_versions,
    collection,
    everything,
    history,
    operation_outcome,
    plan_resources,
    search_set,
)
from plantrail.projections.fhir.capability import FHIR_VERSION, capability_statement
from plantrail.projections.fhir.ids import FHIR_ID
from plantrail.projections.fhir.resources import care_plan

__all__ = [
    "FHIR_ID",
    "FHIR_VERSION",
    "capability_statement",
    "care_plan",
    "care_plan_versions",
    "collection",
    "everything",
    "history",
    "operation_outcome",
    "plan_resources",
    "search_set",
]
