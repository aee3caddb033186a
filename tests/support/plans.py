"""Plan builders: the actors, command envelopes and commands tests write plans with, and whole
plans (a small signed one, one with an item of every kind, a copied-forward review history)."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from plantrail.domain import commands as c
from plantrail.domain.service import CommandResult, PlanService
from plantrail.domain.values import Actor
from tests.support.clock import FakeClock, at
from tests.support.http import USERS
from tests.support.http import meta as user_meta

CLINICIAN = Actor(user_id="dana", name="Dana Reyes", role="clinician", credentials="LCSW")
SUPERVISOR = Actor(user_id="sam", name="Sam Okafor", role="supervisor", credentials="PhD")

_ids = itertools.count(1)


def meta(actor: Actor = CLINICIAN, **fields: Any) -> c.CommandMeta:
    """A command envelope with a fresh command id unless one is given."""
    fields.setdefault("command_id", f"test-{next(_ids)}-{uuid.uuid4().hex[:8]}")
    return c.CommandMeta(actor=actor, **fields)


def open_command(mrn: str = "MRN-1001", end: date = date(2027, 2, 1)) -> c.OpenPlan:
    return c.OpenPlan(
        client=c.ClientIn(id=mrn, name="Alex Moreno", date_of_birth=date(1988, 5, 17)),
        clinician=c.ClinicianIn(
            user_id="dana", name="Dana Reyes", credentials="LCSW", license_number="LC-4471"
        ),
        supervisor=c.ClinicianIn(user_id="sam", name="Sam Okafor", credentials="PhD"),
        plan_end_date=end,
        service_type="individual",
        session_minutes=53,
    )


def open_plan(service: PlanService, effective: date | None = None, mrn: str = "MRN-1001") -> UUID:
    result = service.open_plan(open_command(mrn), meta(effective_date=effective))
    return UUID(result.plan_id)


def build_signed_plan(service: PlanService, effective: date | None = None) -> dict[str, Any]:
    """A small, realistic active plan: one diagnosis, problem, goal, two objectives, an
    intervention, signed by the clinician. Returns the ids by name."""
    plan_id = open_plan(service, effective)
    run = lambda command: service.execute(plan_id, command, meta())  # noqa: E731
    run(
        c.AddDiagnosis(
            code="F32.1",
            description="Major depressive disorder, single episode, moderate",
            primary=True,
        )
    )
    problem = run(
        c.AddProblem(
            statement="Low mood most days; PHQ-9 of 16 at intake", diagnosis_codes=["F32.1"]
        )
    )
    goal = run(
        c.AddGoal(
            statement="Mood improves enough to return to work",
            problem_ids=[problem.item_id],
            client_words="I want to feel like myself again",
        )
    )
    obj1 = run(
        c.AddObjective(
            goal_id=goal.item_id,
            statement="PHQ-9 below 10",
            measure={"instrument": "PHQ-9", "baseline": 16, "target": 9},
            target_date=date(2026, 9, 1),
        )
    )
    obj2 = run(
        c.AddObjective(
            goal_id=goal.item_id,
            statement="Four planned activities a week",
            measure={
                "instrument": "activity log",
                "baseline": 1,
                "target": 4,
                "direction": "increase",
            },
            target_date=date(2026, 7, 1),
        )
    )
    intervention = run(
        c.AddIntervention(
            modality="CBT",
            technique="Behavioural activation scheduling",
            frequency="weekly",
            objective_ids=[obj1.item_id, obj2.item_id],
        )
    )
    run(c.SetDischargeCriteria(criteria=["PHQ-9 below 10 on two consecutive administrations"]))
    signature: CommandResult = run(
        c.CaptureSignature(
            role="clinician",
            meaning="authored",
            signer_name="Dana Reyes",
            signer_credentials="LCSW",
            signer_id="dana",
        )
    )
    return {
        "plan_id": plan_id,
        "problem": problem.item_id,
        "goal": goal.item_id,
        "objective1": obj1.item_id,
        "objective2": obj2.item_id,
        "intervention": intervention.item_id,
        "signature": signature.item_id,
    }


def copy_forward_history(
    service: PlanService, clock: FakeClock, opening: c.OpenPlan, clinician: Actor
) -> dict[str, Any]:
    """A plan opened 2 March 2026, signed by ``clinician`` on the 9th and the client on the
    10th; reviews on 1 April (assessing), 1 May and 30 July (both copied forward) and
    28 October (an objective met: the plan updated). The clock is left on 2 November.
    Returns the plan id and the review ids by date."""
    at(clock, date(2026, 3, 2))
    plan_id = UUID(service.open_plan(opening, meta(clinician)).plan_id)

    def run(command: Any) -> str | None:
        return service.execute(plan_id, command, meta(clinician)).item_id

    run(c.AddDiagnosis(code="F41.1", description="Generalized anxiety disorder", primary=True))
    problem = run(c.AddProblem(statement="Worry most days; GAD-7 15", diagnosis_codes=["F41.1"]))
    goal = run(c.AddGoal(statement="Worry no longer runs the day", problem_ids=[problem]))
    objectives = [
        run(
            c.AddObjective(
                goal_id=goal,
                statement=statement,
                measure={"instrument": "GAD-7", "baseline": 15, "target": 7},
                target_date=date(2026, 12, 1),
            )
        )
        for statement in ("GAD-7 under 8", "Worry postponement five days a week")
    ]
    run(
        c.AddIntervention(
            modality="CBT",
            technique="Worry postponement and exposure",
            frequency="weekly",
            objective_ids=objectives,
        )
    )
    run(c.SetDischargeCriteria(criteria=["GAD-7 under 8 twice"]))
    at(clock, date(2026, 3, 9))
    run(
        c.CaptureSignature(
            role="clinician",
            meaning="authored",
            signer_name=clinician.name,
            signer_credentials=clinician.credentials,
            signer_id=clinician.user_id,
        )
    )
    at(clock, date(2026, 3, 10))
    run(c.CaptureSignature(role="client", meaning="agreed", signer_name="Alex Moreno"))
    reviews: dict[date, str | None] = {}
    for day in (date(2026, 4, 1), date(2026, 5, 1), date(2026, 7, 30), date(2026, 10, 28)):
        at(clock, day)
        review = run(c.StartReview(reason="scheduled"))
        met = day.month == 10
        statuses = ["met", "partially_met"] if met else ["partially_met", "partially_met"]
        run(
            c.CompleteReview(
                review_id=review,
                assessments=[
                    c.AssessmentIn(objective_id=o, status=s)
                    for o, s in zip(objectives, statuses, strict=True)
                ],
                progress_summary="Objective 1 met." if met else "Some progress.",
            )
        )
        reviews[day] = review
    at(clock, date(2026, 11, 2))
    return {"plan_id": plan_id, "reviews": reviews}


def full_plan(
    service: PlanService,
    clinician: str = "dana",
    mrn: str | None = None,
    *,
    signed: bool = True,
    minor: bool = False,
) -> dict[str, Any]:
    """A signed plan with an item of each kind (and, under Sam, his approval); returns the ids.
    ``signed=False``: the same plan left a draft, signed by no one; ``minor``: its client is 15,
    with their mother, Robin Moreno, as guardian."""
    user = USERS[clinician]
    supervised = user.get("supervisor_id") == "sam-okafor"
    today = service.clock().date()
    opened = service.open_plan(
        c.OpenPlan(
            client=c.ClientIn(
                id=mrn or f"MRN-{uuid.uuid4().hex[:6]}", name="Alex Moreno",
                date_of_birth=today - timedelta(days=15 * 365) if minor else date(1988, 5, 17),
                guardian=c.GuardianIn(name="Robin Moreno", relationship="mother")
                if minor else None,
            ),
            clinician=c.ClinicianIn(
                user_id=user["user_id"], name=user["name"], credentials=user.get("credentials"),
            ),
            supervisor=(
                c.ClinicianIn(user_id="sam-okafor", name="Sam Okafor", credentials="PhD")
                if supervised else None
            ),
            plan_end_date=today + timedelta(days=300),
        ),
        user_meta(clinician),
    )  # fmt: skip
    plan_id = UUID(opened.plan_id)

    def run(command: Any, who: str = clinician, **fields: Any) -> str | None:
        return service.execute(plan_id, command, user_meta(who, **fields)).item_id

    ids: dict[str, Any] = {"plan_id": plan_id}
    run(c.AddDiagnosis(code="F32.1", description="Major depressive disorder", primary=True))
    ids["problem"] = run(c.AddProblem(statement="Low mood; PHQ-9 16", diagnosis_codes=["F32.1"]))
    ids["goal"] = run(c.AddGoal(statement="Return to work", problem_ids=[ids["problem"]]))
    ids["objective"] = run(
        c.AddObjective(
            goal_id=ids["goal"], statement="PHQ-9 below 10",
            measure={"instrument": "PHQ-9", "baseline": 16, "target": 9},
            target_date=today + timedelta(days=120),
        )
    )  # fmt: skip
    ids["intervention"] = run(
        c.AddIntervention(
            modality="CBT", technique="Behavioural activation", frequency="weekly",
            objective_ids=[ids["objective"]],
        )
    )  # fmt: skip
    ids["measurement"] = run(
        c.RecordMeasurement(instrument="PHQ-9", score=16, administered_on=today)
    )
    ids["strength"] = run(c.NoteStrength(text="Supportive sister"))
    ids["barrier"] = run(c.NoteBarrier(text="Shift work"))
    run(c.SetTimeline(estimated_sessions=16, session_frequency="weekly"))
    run(c.SetDischargeCriteria(criteria=["PHQ-9 below 10 twice"]))
    if not signed:
        ids["version"] = service.load(plan_id).version
        return ids
    ids["signature"] = run(
        c.CaptureSignature(
            role="clinician", meaning="authored", signer_name=user["name"],
            signer_credentials=user.get("credentials"), signer_id=user["user_id"],
        )
    )  # fmt: skip
    if supervised:
        ids["supervisor_signature"] = run(
            c.CaptureSignature(
                role="supervisor", meaning="approved", signer_name="Sam Okafor",
                signer_credentials="PhD", signer_id="sam-okafor",
            ),
            who="sam",
        )  # fmt: skip
    ids["version"] = service.load(plan_id).version
    return ids
