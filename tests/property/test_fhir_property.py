"""For random plan histories (statuses, scores on any instrument, signatures by any role with
any meaning, revocations, voids, removals, reviews, discharge), every FHIR resource parses with
the R4B models and every reference of ``everything`` and ``collection`` resolves."""

from __future__ import annotations

import contextlib
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantrail.domain import commands as c
from plantrail.domain.errors import PlantrailError
from plantrail.domain.instruments import INSTRUMENT_RANGES
from plantrail.projections import fhir
from tests.support.fhir import unresolved, validate
from tests.support.histories import SUPERVISOR, PlanBuilder, depression_plan

INSTRUMENTS = [*INSTRUMENT_RANGES, "phq 9", "sleep diary"]
STATUSES = ["open", "met", "partially_met", "not_met", "no_longer_relevant"]
STEP = st.tuples(
    st.integers(min_value=0, max_value=9),  # which command
    st.integers(min_value=0, max_value=40),  # a pick among items, or a score
    st.integers(min_value=0, max_value=10),  # a second pick
)


def _pick(items: list[str], n: int) -> str | None:
    return items[n % len(items)] if items else None


def _command(b: PlanBuilder, kind: int, n: int, m: int) -> c.PlanCommand | None:
    state = b.state
    objectives = list(state.objectives)
    if kind == 0:
        instrument = INSTRUMENTS[m % len(INSTRUMENTS)]
        high = INSTRUMENT_RANGES.get(instrument, (0, 40))[1]
        return c.RecordMeasurement(
            instrument=instrument,
            score=n % (high + 1),
            administered_on=b.today,
            objective_id=_pick(objectives, m) if n % 2 else None,
        )
    if kind == 1 and (measurement := _pick(list(state.measurements), n)):
        return c.VoidMeasurement(measurement_id=measurement)
    if kind == 2 and (objective := _pick(objectives, n)):
        return c.MarkObjectiveStatus(objective_id=objective, status=STATUSES[m % 5])  # type: ignore[arg-type]
    if kind == 3 and (goal := _pick(list(state.goals), n)):
        return c.ReviseGoal(goal_id=goal, status=["active", "achieved", "retired"][m % 3])  # type: ignore[arg-type]
    if kind == 4:
        role = ["clinician", "client", "guardian", "supervisor"][n % 4]
        return c.CaptureSignature(
            role=role,  # type: ignore[arg-type]
            meaning=["authored", "agreed", "reviewed", "approved"][m % 4],  # type: ignore[arg-type]
            signer_name="Someone Signing",
            signer_credentials="MSW" if m % 2 else None,
            signer_id="sam" if role == "supervisor" and n % 3 else None,
        )
    if kind == 5 and (signature := _pick(list(state.signatures), n)):
        return c.RevokeSignature(signature_id=signature)
    if kind == 6 and (code := _pick(list(state.diagnoses), n)):
        return c.RemoveDiagnosis(code=code)
    if kind == 7 and (intervention := _pick(list(state.interventions), n)):
        return c.ReviseIntervention(intervention_id=intervention, status="discontinued")
    if kind == 8:
        return c.AddDiagnosis(code=["F41.1", "F43.10", "F10.20"][m % 3], description="Another")
    if kind == 9 and m == 0:
        return c.DischargePlan(reason="Treatment ended.")
    return None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sign=st.booleans(), steps=st.lists(STEP, max_size=25))
def test_every_resource_validates_and_every_reference_resolves(
    sign: bool, steps: list[tuple[int, int, int]]
) -> None:
    b, _ = depression_plan(sign=sign)
    for kind, n, m in steps:
        b.advance(hours=5)
        command = _command(b, kind, n, m)
        if command is None:
            continue
        actor: dict[str, Any] = {"actor": SUPERVISOR} if kind == 4 and n % 4 == 3 else {}
        with contextlib.suppress(PlantrailError):  # refused by the rules: nothing stored
            b.run(command, rationale="As discussed in session.", **actor)
    for resource in fhir.plan_resources(b.state, b.events):
        validate(resource)
    for bundle in (
        fhir.everything(b.state, b.events, base_url="https://ehr.example.org/fhir"),
        fhir.collection(b.state, b.events),
    ):
        Bundle.model_validate(bundle)
        assert unresolved(bundle) == []
    history = fhir.history(b.events, base_url="https://ehr.example.org/fhir")
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == [
        str(v) for v in range(b.state.version, 0, -1)
    ]
