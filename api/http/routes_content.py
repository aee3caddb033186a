"""Writes to a plan's clinical content: diagnoses, problems, goals, objectives, interventions,
measurements, strengths, barriers, timeline and discharge criteria (the plan's clinician only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from plantrail.api.routing.common import (
    ETAG_HEADER,
    WRITE_RESPONSES,
    ClinicianWrite,
    CodePath,
    ItemIdPath,
)
from plantrail.api.routing.schemas import (
    DiagnosisBody,
    DischargeCriteriaBody,
    GoalBody,
    GoalPatch,
    InterventionBody,
    InterventionPatch,
    MeasurementBody,
    ObjectiveBody,
    ObjectivePatch,
    ObjectiveStatusBody,
    ProblemBody,
    ProblemPatch,
    SafetyPlanBody,
    TextBody,
    TimelineBody,
    WriteFields,
    WriteResult,
)
from plantrail.domain import commands as cmd

router = APIRouter(prefix="/plans/{plan_id}", tags=["plan content"], responses=WRITE_RESPONSES)

CREATED: dict[int | str, dict[str, Any]] = {201: {"description": "Created", "headers": ETAG_HEADER}}
CHANGED: dict[int | str, dict[str, Any]] = {200: {"description": "Changed", "headers": ETAG_HEADER}}


@router.post("/diagnoses", status_code=201, responses=CREATED, summary="Add a diagnosis")
def add_diagnosis(
    body: DiagnosisBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.AddDiagnosis, body)


@router.delete("/diagnoses/{code}", responses=CHANGED, summary="Remove a diagnosis")
def remove_diagnosis(
    code: CodePath,
    write: ClinicianWrite,
    body: Annotated[WriteFields | None, Body()] = None,
) -> WriteResult:
    return write.run(cmd.RemoveDiagnosis, body, code=code)


@router.post("/problems", status_code=201, responses=CREATED, summary="Add a problem")
def add_problem(
    body: ProblemBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.AddProblem, body)


@router.patch("/problems/{item_id}", responses=CHANGED, summary="Revise or resolve a problem")
def revise_problem(
    item_id: ItemIdPath,
    body: ProblemPatch,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.ReviseProblem, body, problem_id=item_id)


@router.post("/goals", status_code=201, responses=CREATED, summary="Add a goal")
def add_goal(
    body: GoalBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.AddGoal, body)


@router.patch("/goals/{item_id}", responses=CHANGED, summary="Revise a goal or set its status")
def revise_goal(
    item_id: ItemIdPath,
    body: GoalPatch,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.ReviseGoal, body, goal_id=item_id)


@router.post(
    "/objectives", status_code=201, responses=CREATED, summary="Add an objective under a goal"
)
def add_objective(
    body: ObjectiveBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.AddObjective, body)


@router.patch("/objectives/{item_id}", responses=CHANGED, summary="Revise an objective")
def revise_objective(
    item_id: ItemIdPath,
    body: ObjectivePatch,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.ReviseObjective, body, objective_id=item_id)


@router.post(
    "/objectives/{item_id}/status", responses=CHANGED, summary="Mark an objective's status"
)
def mark_objective(
    item_id: ItemIdPath,
    body: ObjectiveStatusBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.MarkObjectiveStatus, body, objective_id=item_id)


@router.post("/interventions", status_code=201, responses=CREATED, summary="Add an intervention")
def add_intervention(
    body: InterventionBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.AddIntervention, body)


@router.patch(
    "/interventions/{item_id}", responses=CHANGED, summary="Revise or discontinue an intervention"
)
def revise_intervention(
    item_id: ItemIdPath,
    body: InterventionPatch,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.ReviseIntervention, body, intervention_id=item_id)


@router.post("/measurements", status_code=201, responses=CREATED, summary="Record a measurement")
def record_measurement(
    body: MeasurementBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.RecordMeasurement, body)


@router.post("/measurements/{item_id}/void", responses=CHANGED, summary="Void a measurement")
def void_measurement(
    item_id: ItemIdPath,
    write: ClinicianWrite,
    body: Annotated[WriteFields | None, Body()] = None,
) -> WriteResult:
    return write.run(cmd.VoidMeasurement, body, measurement_id=item_id)


@router.post("/strengths", status_code=201, responses=CREATED, summary="Note a strength")
def note_strength(
    body: TextBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.NoteStrength, body)


@router.post("/barriers", status_code=201, responses=CREATED, summary="Note a barrier")
def note_barrier(
    body: TextBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.NoteBarrier, body)


@router.put("/timeline", responses=CHANGED, summary="Set the timeline")
def set_timeline(
    body: TimelineBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.SetTimeline, body)


@router.put("/discharge-criteria", responses=CHANGED, summary="Set the discharge criteria")
def set_discharge_criteria(
    body: DischargeCriteriaBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.SetDischargeCriteria, body)


@router.put("/safety-plan", responses=CHANGED, summary="Set the crisis or safety plan section")
def set_safety_plan(
    body: SafetyPlanBody,
    write: ClinicianWrite,
) -> WriteResult:
    return write.run(cmd.SetSafetyPlan, body)
