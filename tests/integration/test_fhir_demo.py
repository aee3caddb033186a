"""The FHIR mapping over the whole demo caseload, read back from a real store (SQLite, and
PostgreSQL when configured): every resource of every plan parses with the R4B models and every
reference of every Bundle resolves. ``python -m tests.integration.test_fhir_demo`` prints the
counts per resource type."""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle

from plantrail.api.demo import load_demo
from plantrail.domain.service import PlanService
from plantrail.projections import fhir
from plantrail.projections.integrity.keys import create_keys
from tests.support.clock import FakeClock
from tests.support.fhir import counts, unresolved, validate
from tests.support.stores import running_service, sqlite_url

BASE = "https://riverside.example.org/fhir"


def validate_caseload(service: PlanService) -> Counter[str]:
    """Load the demo caseload, validate every plan's resources and Bundles; return how many
    resources of each type validated."""
    total: Counter[str] = Counter()
    for demo in load_demo(service):
        events = service.events_of(demo.plan_id)
        state = service.load(demo.plan_id)
        resources = fhir.plan_resources(state, events)
        for resource in resources:
            validate(resource)
        kinds = counts(resources)
        expected = len(events) + len(state.signatures) + len(state.completed_reviews)
        assert kinds["Provenance"] == expected, "one per event, signature and completed review"
        assert kinds["Goal"] == len(state.goals) + len(state.objectives)
        assert kinds["Observation"] == len(state.measurements)
        total += kinds
        for bundle in (
            fhir.everything(state, events, base_url=BASE),
            fhir.collection(state, events),
        ):
            Bundle.model_validate(bundle)
            assert unresolved(bundle) == [], demo.client_id
        history = fhir.history(events, base_url=BASE)
        Bundle.model_validate(history)
        assert len(history["entry"]) == state.version
    return total


def test_every_demo_resource_validates_and_resolves(service: PlanService) -> None:
    validated = validate_caseload(service)
    print("FHIR resources validated over the demo caseload:", dict(sorted(validated.items())))
    assert validated["CarePlan"] == 7
    assert validated["Patient"] == 7
    assert validated["Practitioner"] >= 4, "three clinicians and their supervisor"
    for resource_type in ("Condition", "Goal", "Observation", "Provenance"):
        assert validated[resource_type] > 0, resource_type


def main() -> None:  # pragma: no cover - a helper for the closing note
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys"
        create_keys(keys)
        with running_service(sqlite_url(Path(tmp)), keys, clock=FakeClock()) as service:
            validated = validate_caseload(service)
    for resource_type, number in sorted(validated.items()):
        sys.stdout.write(f"{resource_type}\t{number}\n")
    sys.stdout.write(f"total\t{sum(validated.values())}\n")


if __name__ == "__main__":  # pragma: no cover
    main()
