"""Writes to a plan's clinical content: diagnoses, problems, goals, objectives, interventions,
measurements, strengths, barriers, timeline and discharge criteria (the plan's clinician only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from plantrail.api.routing.common import (
    ETAG_HEADER,
    WRITE_RESPONSES,
    CodePath,
    IdempotencyKey,
    IfMatch,
    ItemIdPath,
    PlanId,
    Writer,
    write,
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
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: DiagnosisBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.AddDiagnosis, body, if_match, idempotency_key
    )


@router.delete("/diagnoses/{code}", responses=CHANGED, summary="Remove a diagnosis")
def remove_diagnosis(
    request: Request,
    response: Response,
    plan_id: PlanId,
    code: CodePath,
    caller: Writer,
    body: Annotated[WriteFields | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.RemoveDiagnosis,
        body,
        if_match,
        idempotency_key,
        code=code,
    )


@router.post("/problems", status_code=201, responses=CREATED, summary="Add a problem")
def add_problem(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: ProblemBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.AddProblem, body, if_match, idempotency_key
    )


@router.patch("/problems/{item_id}", responses=CHANGED, summary="Revise or resolve a problem")
def revise_problem(
    request: Request,
    response: Response,
    plan_id: PlanId,
    item_id: ItemIdPath,
    body: ProblemPatch,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.ReviseProblem,
        body,
        if_match,
        idempotency_key,
        problem_id=item_id,
    )


@router.post("/goals", status_code=201, responses=CREATED, summary="Add a goal")
def add_goal(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: GoalBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(request, response, caller, plan_id, cmd.AddGoal, body, if_match, idempotency_key)


@router.patch("/goals/{item_id}", responses=CHANGED, summary="Revise a goal or set its status")
def revise_goal(
    request: Request,
    response: Response,
    plan_id: PlanId,
    item_id: ItemIdPath,
    body: GoalPatch,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.ReviseGoal,
        body,
        if_match,
        idempotency_key,
        goal_id=item_id,
    )


@router.post(
    "/objectives", status_code=201, responses=CREATED, summary="Add an objective under a goal"
)
def add_objective(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: ObjectiveBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.AddObjective, body, if_match, idempotency_key
    )


@router.patch("/objectives/{item_id}", responses=CHANGED, summary="Revise an objective")
def revise_objective(
    request: Request,
    response: Response,
    plan_id: PlanId,
    item_id: ItemIdPath,
    body: ObjectivePatch,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.ReviseObjective,
        body,
        if_match,
        idempotency_key,
        objective_id=item_id,
    )


@router.post(
    "/objectives/{item_id}/status", responses=CHANGED, summary="Mark an objective's status"
)
def mark_objective(
    request: Request,
    response: Response,
    plan_id: PlanId,
    item_id: ItemIdPath,
    body: ObjectiveStatusBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.MarkObjectiveStatus,
        body,
        if_match,
        idempotency_key,
        objective_id=item_id,
    )


@router.post("/interventions", status_code=201, responses=CREATED, summary="Add an intervention")
def add_intervention(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: InterventionBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.AddIntervention, body, if_match, idempotency_key
    )


@router.patch(
    "/interventions/{item_id}", responses=CHANGED, summary="Revise or discontinue an intervention"
)
def revise_intervention(
    request: Request,
    response: Response,
    plan_id: PlanId,
    item_id: ItemIdPath,
    body: InterventionPatch,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.ReviseIntervention,
        body,
        if_match,
        idempotency_key,
        intervention_id=item_id,
    )


@router.post("/measurements", status_code=201, responses=CREATED, summary="Record a measurement")
def record_measurement(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: MeasurementBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.RecordMeasurement, body, if_match, idempotency_key
    )


@router.post("/measurements/{item_id}/void", responses=CHANGED, summary="Void a measurement")
def void_measurement(
    request: Request,
    response: Response,
    plan_id: PlanId,
    item_id: ItemIdPath,
    caller: Writer,
    body: Annotated[WriteFields | None, Body()] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.VoidMeasurement,
        body,
        if_match,
        idempotency_key,
        measurement_id=item_id,
    )


@router.post("/strengths", status_code=201, responses=CREATED, summary="Note a strength")
def note_strength(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: TextBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.NoteStrength, body, if_match, idempotency_key
    )


@router.post("/barriers", status_code=201, responses=CREATED, summary="Note a barrier")
def note_barrier(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: TextBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.NoteBarrier, body, if_match, idempotency_key
    )


@router.put("/timeline", responses=CHANGED, summary="Set the timeline")
def set_timeline(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: TimelineBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.SetTimeline, body, if_match, idempotency_key
    )


@router.put("/discharge-criteria", responses=CHANGED, summary="Set the discharge criteria")
def set_discharge_criteria(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: DischargeCriteriaBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request,
        response,
        caller,
        plan_id,
        cmd.SetDischargeCriteria,
        body,
        if_match,
        idempotency_key,
    )


@router.put("/safety-plan", responses=CHANGED, summary="Set the crisis or safety plan section")
def set_safety_plan(
    request: Request,
    response: Response,
    plan_id: PlanId,
    body: SafetyPlanBody,
    caller: Writer,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> WriteResult:
    return write(
        request, response, caller, plan_id, cmd.SetSafetyPlan, body, if_match, idempotency_key
    )
