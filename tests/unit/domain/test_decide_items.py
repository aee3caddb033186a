"""The plan's items (diagnoses, problems, goals, objectives, interventions, measurements):
every refusal names the field at fault and the reason, and a revision that would change nothing
is refused rather than recorded as an empty version."""

from __future__ import annotations

from datetime import timedelta

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.plan import fold
from tests.support.decider import PLAN_START, TODAY, Plan, active_plan
from tests.unit.domain.refusals import not_found, refused

WHY = {"rationale": "Reviewed with the client"}


# ------------------------------------------------------------------------------ diagnoses
def test_a_diagnosis_is_on_the_plan_once() -> None:
    plan = Plan()
    plan.add(c.AddDiagnosis(code="F32.1", description="Major depressive disorder"))
    refused(
        plan,
        c.AddDiagnosis(code="F32.1", description="Major depressive disorder, again"),
        "code",
        "F32.1 is already on the plan",
    )


def test_a_plan_has_one_primary_diagnosis() -> None:
    plan = Plan()
    plan.add(c.AddDiagnosis(code="F32.1", description="Major depressive disorder", primary=True))
    refused(
        plan,
        c.AddDiagnosis(code="F41.1", description="Generalized anxiety disorder", primary=True),
        "primary",
        "F32.1 is already the primary diagnosis; add F41.1 as secondary",
    )
    secondary = plan.add(c.AddDiagnosis(code="F41.1", description="Generalized anxiety disorder"))
    assert isinstance(secondary, ev.DiagnosisAdded)
    assert not secondary.primary


# ------------------------------------------------------------------------------- problems
def test_a_problem_revision_that_changes_nothing_is_refused() -> None:
    plan = Plan()
    plan.add(c.AddDiagnosis(code="F32.1", description="Major depressive disorder"))
    problem = plan.add(c.AddProblem(statement="Low mood most days", diagnosis_codes=["F32.1"]))
    assert isinstance(problem, ev.ProblemAdded)
    # the same statement and the same codes (a repeated code counts once) are no change
    same = c.ReviseProblem(
        problem_id=problem.problem_id,
        statement="Low mood most days",
        diagnosis_codes=["F32.1", "F32.1"],
    )
    refused(plan, same, "problem_id", "the revision changes nothing in Problem 1")


# ---------------------------------------------------------------------------------- goals
def test_revising_an_unknown_goal_is_not_found() -> None:
    plan = Plan()
    not_found(plan, c.ReviseGoal(goal_id="g-404", statement="Sleep"), "goal", "goal_id", "g-404")


def test_a_goal_is_relinked_to_other_problems_and_the_link_is_replayed() -> None:
    plan = Plan()
    first = plan.add(c.AddProblem(statement="Low mood most days"))
    second = plan.add(c.AddProblem(statement="Poor sleep"))
    assert isinstance(first, ev.ProblemAdded)
    assert isinstance(second, ev.ProblemAdded)
    goal = plan.add(c.AddGoal(statement="Feel rested", problem_ids=[first.problem_id]))
    assert isinstance(goal, ev.GoalAdded)

    refused(
        plan,
        c.ReviseGoal(goal_id=goal.goal_id, problem_ids=["p-404"]),
        "problem_ids",
        "p-404 is not a problem on this plan",
    )
    revised = plan.add(
        c.ReviseGoal(goal_id=goal.goal_id, problem_ids=[second.problem_id, second.problem_id])
    )
    assert isinstance(revised, ev.GoalRevised)
    assert revised.problem_ids == [second.problem_id]
    assert plan.state.goals[goal.goal_id].problem_ids == [second.problem_id]
    assert fold(plan.events) == plan.state
    refused(
        plan,
        c.ReviseGoal(goal_id=goal.goal_id, problem_ids=[second.problem_id]),
        "goal_id",
        "the revision changes nothing in Goal 1",
    )


# ----------------------------------------------------------------------------- objectives
def test_an_objective_belongs_to_a_goal_of_the_plan() -> None:
    plan = Plan()
    refused(
        plan,
        c.AddObjective(goal_id="g-404", statement="PHQ-9 below 10"),
        "goal_id",
        "g-404 is not a goal on this plan",
    )


def test_an_objective_is_not_due_before_it_takes_effect() -> None:
    plan = Plan()
    goal = plan.goal()
    refused(
        plan,
        c.AddObjective(goal_id=goal, statement="PHQ-9 below 10", target_date=TODAY - timedelta(1)),
        "target_date",
        f"{TODAY - timedelta(1)} is before the objective's effective date {TODAY}",
        effective_date=TODAY,
    )


def test_revising_or_marking_an_unknown_objective_is_not_found() -> None:
    plan = Plan()
    not_found(
        plan,
        c.ReviseObjective(objective_id="o-404", statement="PHQ-9 below 5"),
        "objective",
        "objective_id",
        "o-404",
    )
    not_found(
        plan,
        c.MarkObjectiveStatus(objective_id="o-404", status="met"),
        "objective",
        "objective_id",
        "o-404",
    )


def test_a_revised_target_date_is_not_before_the_objective_took_effect() -> None:
    plan = Plan()
    started = TODAY - timedelta(days=3)
    goal = plan.add(c.AddGoal(statement="Return to work"), effective_date=started)
    assert isinstance(goal, ev.GoalAdded)
    objective = plan.objective(goal.goal_id, "PHQ-9 below 10", effective_date=started)
    early = TODAY - timedelta(days=4)
    refused(
        plan,
        c.ReviseObjective(objective_id=objective.objective_id, target_date=early),
        "target_date",
        f"{early} is before Objective 1.1 took effect on {started}",
    )


def test_an_objective_is_not_marked_with_the_status_it_has() -> None:
    plan, _goal, first, _second = active_plan()
    plan.run(c.MarkObjectiveStatus(objective_id=first.objective_id, status="met"), **WHY)
    refused(
        plan,
        c.MarkObjectiveStatus(objective_id=first.objective_id, status="met"),
        "status",
        "Objective 1.1 is already met",
        **WHY,
    )


# -------------------------------------------------------------------------- interventions
def test_an_intervention_serves_objectives_of_the_plan() -> None:
    plan = Plan()
    refused(
        plan,
        c.AddIntervention(
            modality="CBT",
            technique="Activity scheduling",
            frequency="weekly",
            objective_ids=["o-404"],
        ),
        "objective_ids",
        "o-404 is not an objective on this plan",
    )


def test_an_intervention_revision_that_changes_nothing_is_refused() -> None:
    plan = Plan()
    goal = plan.goal()
    objective = plan.objective(goal, "PHQ-9 below 10")
    added = plan.add(
        c.AddIntervention(
            modality="CBT",
            technique="Activity scheduling",
            frequency="weekly",
            objective_ids=[objective.objective_id],
        )
    )
    assert isinstance(added, ev.InterventionAdded)
    not_found(
        plan,
        c.ReviseIntervention(intervention_id="i-404", frequency="fortnightly"),
        "intervention",
        "intervention_id",
        "i-404",
    )
    same = c.ReviseIntervention(
        intervention_id=added.intervention_id,
        frequency="weekly",
        objective_ids=[objective.objective_id],
    )
    refused(plan, same, "intervention_id", "the revision changes nothing in Intervention 1")
    # the same links with a discontinuation is a change: only the discontinuation is recorded
    (stopped,) = plan.run(same.model_copy(update={"status": "discontinued"}))
    assert isinstance(stopped, ev.InterventionDiscontinued)
    assert plan.state.interventions[added.intervention_id].status == "discontinued"


# --------------------------------------------------------------------------- measurements
def test_a_measurement_is_refused_when_it_cannot_be_true() -> None:
    plan = Plan()
    refused(
        plan,
        c.RecordMeasurement(instrument="PHQ-9", score=28, administered_on=TODAY),
        "score",
        "score 28 is outside the PHQ-9 range 0–27",
    )
    tomorrow = TODAY + timedelta(days=1)
    refused(
        plan,
        c.RecordMeasurement(instrument="PHQ-9", score=12, administered_on=tomorrow),
        "administered_on",
        f"{tomorrow} is in the future",
    )
    refused(
        plan,
        c.RecordMeasurement(
            instrument="PHQ-9", score=12, administered_on=PLAN_START, objective_id="o-404"
        ),
        "objective_id",
        "o-404 is not an objective on this plan",
    )


def test_voiding_an_unknown_measurement_is_not_found() -> None:
    plan = Plan()
    not_found(
        plan, c.VoidMeasurement(measurement_id="m-404"), "measurement", "measurement_id", "m-404"
    )


def test_removing_a_diagnosis_not_on_the_plan_is_not_found() -> None:
    plan = Plan()
    not_found(plan, c.RemoveDiagnosis(code="F32.1"), "diagnosis", "code", "F32.1")
    plan.add(c.AddDiagnosis(code="F32.1", description="Major depressive disorder"))
    plan.add(c.RemoveDiagnosis(code="F32.1"))
    not_found(plan, c.RemoveDiagnosis(code="F32.1"), "diagnosis", "code", "F32.1")


def test_a_problem_names_only_diagnoses_on_the_plan() -> None:
    plan = Plan()
    refused(
        plan,
        c.AddProblem(statement="Worry most days", diagnosis_codes=["F41.1"]),
        "diagnosis_codes",
        "F41.1 is not a diagnosis on this plan",
    )


def test_revising_an_unknown_problem_is_not_found() -> None:
    plan = Plan()
    not_found(
        plan,
        c.ReviseProblem(problem_id="p-404", status="resolved"),
        "problem",
        "problem_id",
        "p-404",
    )


def test_an_objective_revision_that_changes_nothing_is_refused() -> None:
    plan = Plan()
    goal = plan.goal()
    added = plan.add(
        c.AddObjective(
            goal_id=goal, statement="PHQ-9 below 10", target_date=TODAY + timedelta(days=90)
        )
    )
    assert isinstance(added, ev.ObjectiveAdded)
    same = c.ReviseObjective(
        objective_id=added.objective_id,
        statement="PHQ-9 below 10",
        target_date=TODAY + timedelta(days=90),
    )
    refused(plan, same, "objective_id", "the revision changes nothing in Objective 1.1")
