"""Hypothesis drives every plan command, valid and invalid, against a real store.

The machine opens plans and runs OpenPlan and each PlanCommand in valid and invalid variants
(unknown plans and items, unchanged revisions, missing rationale, bad dates, stale versions,
discharged plans, idempotent retries of earlier command ids, reused ids with a different
payload). For each attempt it predicts the outcome from the plan it last observed and checks it.

Invariants, checked after every step:
- every version ever observed still replays (``service.load(plan, v)``, snapshots included) to
  exactly the state observed when it was written, and a plain fold of the stored events gives
  the current state. (When the stored events and snapshots are byte for byte those of the last
  full check, as after a refused command or a retry, the loads are not repeated: this keeps the
  PostgreSQL run at a few minutes on two shared cores.)
- the store holds exactly the events of the observed versions: a refused command stores nothing
  and leaves its command id unrecorded (so the id can be used again with a valid payload).

Size: 50 examples × 30 steps when CI is set (CI runs it), 8 × 20 otherwise.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from plantrail.domain import commands as c
from plantrail.domain.errors import (
    CommandReused,
    ItemNotFound,
    PlanDischargedError,
    PlanNotFound,
    PlantrailError,
    RuleViolation,
    StaleVersion,
)
from plantrail.domain.plan import PlanState, fold
from plantrail.domain.service import CommandResult, PlanService
from plantrail.projections.assembly import open_service, recorder_of
from plantrail.projections.store.schema import events, snapshots
from tests.support.clock import FakeClock
from tests.support.plans import CLINICIAN, open_command
from tests.support.stores import PG_ENV, postgres_schema_url, sqlite_url

IN_CI = bool(os.environ.get("CI"))
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(PG_ENV) else [])
SETTINGS = settings(
    max_examples=50 if IN_CI else 8,
    stateful_step_count=30 if IN_CI else 20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SNAPSHOT_INTERVAL = 4
"""Small, so that loads of observed versions go through snapshots as well as plain folds."""

CODES = ["F32.1", "F41.1", "F43.10", "F10.20"]
NOT_ON_ANY_PLAN = "F60.3"
UNKNOWN = "no-such-item"
SIGNERS = {  # role -> (meaning, signer id, name)
    "clinician": ("authored", "dana", "Dana Reyes"),
    "client": ("agreed", "alex", "Alex Moreno"),
    "supervisor": ("approved", "sam", "Sam Okafor"),
}

Expected = tuple[type[PlantrailError], str | None] | None
"""The error and the field it must name, or None for success."""

OK: Expected = None


def violation(field: str) -> Expected:
    return (RuleViolation, field)


def not_found(field: str) -> Expected:
    return (ItemNotFound, field)


class PlanMachine(RuleBasedStateMachine):
    backend: str = "sqlite"
    key_dir: Path
    pg_database: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.tmp: str | None = None
        if self.backend == "sqlite":
            self.tmp = tempfile.mkdtemp(prefix="plantrail-stateful-")
            url = sqlite_url(Path(self.tmp))
        else:
            assert self.pg_database is not None
            url = postgres_schema_url(self.pg_database)
        self.service: PlanService = open_service(
            url, self.key_dir, clock=self.clock, snapshot_interval=SNAPSHOT_INTERVAL
        )
        self.observed: dict[UUID, dict[int, dict[str, Any]]] = {}
        self.states: dict[UUID, PlanState] = {}
        self.done: list[tuple[UUID | None, c.Command, c.CommandMeta, CommandResult]] = []
        self.refused_ids: list[str] = []
        self.ids = itertools.count(1)
        self.verified_fingerprint = ""

    def teardown(self) -> None:
        self.service.close()
        recorder_of(self.service).close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------------------ helpers
    @property
    def today(self) -> date:
        return self.clock.now.date()

    def text(self, what: str) -> str:
        return f"{what} #{next(self.ids)}"

    def stored_events(self) -> int:
        with recorder_of(self.service).engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    # Variants listed more than once are drawn more often. Items and plans are drawn in the
    # order they were added, never sorted by id: ids derive from random plan ids, and
    # Hypothesis needs the same draws to mean the same choices.
    def pick_plan(self, data: st.DataObject) -> UUID:
        live = [p for p, s in self.states.items() if s.status != "discharged"]
        if live and data.draw(st.integers(0, 4), label="a discharged plan?") != 4:
            return data.draw(st.sampled_from(live), label="plan")
        return data.draw(st.sampled_from(list(self.states)), label="plan")

    def pick_item(self, data: st.DataObject, ids: Any, label: str, unknown: str = UNKNOWN) -> str:
        """One of ``ids``, or (one time in five, or when there is none) an unknown id."""
        known = list(ids)
        if not known or data.draw(st.integers(0, 4), label=f"unknown {label}") == 4:
            return unknown
        return data.draw(st.sampled_from(known), label=label)

    def envelope(
        self,
        data: st.DataObject,
        state: PlanState,
        *,
        needs_rationale: bool = False,
        on_a_closed_record: bool = False,
        **fields: Any,
    ) -> tuple[c.CommandMeta, Expected]:
        """A command envelope, sometimes stale or without a required rationale; the error that
        takes precedence over the command's own rules, if any. ``on_a_closed_record``: the
        command is one a discharged plan still takes (an amendment request's steps)."""
        early: Expected = OK
        roll = data.draw(st.integers(0, 9), label="envelope variant")
        if roll == 9:
            behind = state.version > 1 and data.draw(st.booleans(), label="stale behind")
            fields["expected_version"] = state.version - 1 if behind else state.version + 1
            early = (StaleVersion, None)
        elif roll >= 5:
            fields["expected_version"] = state.version
        if state.status == "discharged" and early is OK and not on_a_closed_record:
            early = (PlanDischargedError, None)
        omit = data.draw(st.integers(0, 4), label="omit the rationale?") == 4
        if (needs_rationale and not omit) or (not needs_rationale and roll % 3 == 0):
            fields.setdefault("rationale", self.text("Discussed with the client"))
        return self.meta(data, **fields), early

    def meta(self, data: st.DataObject, **fields: Any) -> c.CommandMeta:
        if self.refused_ids and data.draw(st.integers(0, 3), label="reuse a refused id?") == 3:
            command_id = self.refused_ids.pop()
        else:
            command_id = f"sm-{next(self.ids)}"
        return c.CommandMeta(actor=CLINICIAN, command_id=command_id, **fields)

    def rationale_missing(self, state: PlanState, meta: c.CommandMeta) -> Expected:
        if state.status == "active" and meta.rationale is None:
            return violation("rationale")
        return OK

    def attempt(
        self,
        plan_id: UUID,
        command: c.PlanCommand,
        meta: c.CommandMeta,
        early: Expected,
        expected: Expected,
    ) -> None:
        """Run a plan command and check its outcome: ``early`` (stale, discharged) first, then
        the command's own ``expected`` result."""
        self.check(plan_id, command, meta, early or expected)

    def check(
        self, plan_id: UUID | None, command: c.Command, meta: c.CommandMeta, expected: Expected
    ) -> CommandResult | None:
        events_before = self.stored_events()
        state = self.states.get(plan_id) if plan_id is not None else None

        def run() -> CommandResult:
            if plan_id is None:
                assert isinstance(command, c.OpenPlan)
                return self.service.open_plan(command, meta)
            return self.service.execute(plan_id, command, meta)

        if expected is not None:
            error, field = expected
            with pytest.raises(error) as info:
                run()
            if field is not None:
                assert info.value.errors, info.value
                assert info.value.errors[0].field == field, info.value
            # nothing stored: no event anywhere, the plan unchanged, the id not taken
            assert self.stored_events() == events_before
            assert self.service.store.find_command(meta.command_id) is None
            if state is not None:
                assert self.service.load(state.plan_id).version == state.version
            self.refused_ids.append(meta.command_id)
            self.clock.advance(seconds=30)
            return None

        result = run()
        plan = UUID(result.plan_id)
        old = state.version if state is not None else 0
        assert result.version > old
        assert self.stored_events() == events_before + result.version - old
        for version in range(old + 1, result.version + 1):
            self.observed.setdefault(plan, {})[version] = self.service.load(
                plan, version
            ).model_dump()
        self.states[plan] = self.service.load(plan)
        self.done.append((plan_id, command, meta, result))
        self.clock.advance(minutes=5)
        return result

    @initialize(
        days_back=st.integers(0, 30),
        content=st.sampled_from(["under review", "signed", "draft", "empty"]),
    )
    def a_first_plan(self, days_back: int, content: str) -> None:
        """A first plan, often with content, signed or under review, so that every rule is
        reachable within a few steps."""
        effective = self.today - timedelta(days=days_back)
        meta = c.CommandMeta(
            actor=CLINICIAN, command_id=f"sm-{next(self.ids)}", effective_date=effective
        )
        opened = self.check(None, open_command("MRN-1", effective + timedelta(days=300)), meta, OK)
        assert opened is not None
        if content == "empty":
            return
        plan = UUID(opened.plan_id)

        def run(command: c.PlanCommand) -> str:
            envelope = c.CommandMeta(actor=CLINICIAN, command_id=f"sm-{next(self.ids)}")
            result = self.check(plan, command, envelope, OK)
            assert result is not None
            return result.item_id or ""

        goal = run(c.AddGoal(statement="Return to work"))
        run(
            c.AddObjective(
                goal_id=goal,
                statement="PHQ-9 below 10",
                measure={"instrument": "PHQ-9", "baseline": 16, "target": 9},
                target_date=self.today + timedelta(days=120),
            )
        )
        run(c.AddObjective(goal_id=goal, statement="Four planned activities a week"))
        run(c.RecordMeasurement(instrument="PHQ-9", score=16, administered_on=self.today))
        if content in ("signed", "under review"):
            run(c.CaptureSignature(role="clinician", meaning="authored", signer_name="Dana Reyes"))
        if content == "under review":
            run(c.StartReview(reason="scheduled"))

    # ---------------------------------------------------------------------- the clock
    @rule(days=st.integers(0, 10), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        self.clock.advance(days=days, hours=hours)

    # ----------------------------------------------------------------------- OpenPlan
    @precondition(lambda self: len(self.states) < 3)
    @rule(
        data=st.data(),
        variant=st.sampled_from(["valid", "backdated", "future", "end too late"]),
        days_back=st.integers(0, 30),
    )
    def open_plan(self, data: st.DataObject, variant: str, days_back: int) -> None:
        effective = self.today - timedelta(days=days_back) if variant == "backdated" else None
        expected: Expected = OK
        if variant == "future":
            effective = self.today + timedelta(days=1)
            expected = violation("effective_date")
        start = effective or self.today
        end = start + timedelta(days=400 if variant == "end too late" else 300)
        if variant == "end too late":
            expected = violation("plan_end_date")
        mrn = f"MRN-{next(self.ids)}"
        meta = self.meta(data, effective_date=effective)
        self.check(None, open_command(mrn, end), meta, expected)

    # ---------------------------------------------------------------------- diagnoses
    @precondition(lambda self: self.states)
    @rule(data=st.data(), code=st.sampled_from(CODES), primary=st.booleans())
    def add_diagnosis(self, data: st.DataObject, code: str, primary: bool) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        active = {k: d for k, d in state.diagnoses.items() if d.removed_version is None}
        expected: Expected = OK
        if code in active:
            expected = violation("code")
        elif primary and any(d.primary for d in active.values()):
            expected = violation("primary")
        meta, early = self.envelope(data, state)
        command = c.AddDiagnosis(code=code, description=self.text("Diagnosis"), primary=primary)
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data())
    def remove_diagnosis(self, data: st.DataObject) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        active = [k for k, d in state.diagnoses.items() if d.removed_version is None]
        code = self.pick_item(data, active, "code", unknown=NOT_ON_ANY_PLAN)
        meta, early = self.envelope(data, state, needs_rationale=True)
        expected = (
            not_found("code") if code == NOT_ON_ANY_PLAN else self.rationale_missing(state, meta)
        )
        self.attempt(plan, c.RemoveDiagnosis(code=code), meta, early, expected)

    # ----------------------------------------------------------------------- problems
    @precondition(lambda self: self.states)
    @rule(data=st.data(), unknown_code=st.booleans())
    def add_problem(self, data: st.DataObject, unknown_code: bool) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        active = [k for k, d in state.diagnoses.items() if d.removed_version is None]
        codes = (
            data.draw(st.lists(st.sampled_from(active), unique=True), label="codes")
            if active
            else []
        )
        expected: Expected = OK
        if unknown_code:
            codes.append(NOT_ON_ANY_PLAN)
            expected = violation("diagnosis_codes")
        meta, early = self.envelope(data, state)
        command = c.AddProblem(statement=self.text("Problem"), diagnosis_codes=codes)
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data(), variant=st.sampled_from(["restate", "resolve", "unchanged"]))
    def revise_problem(self, data: st.DataObject, variant: str) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        problem_id = self.pick_item(data, state.problems, "problem")
        meta, early = self.envelope(data, state, needs_rationale=True)
        problem = state.problems.get(problem_id)
        if variant == "restate":
            command = c.ReviseProblem(problem_id=problem_id, statement=self.text("Problem"))
        elif variant == "resolve":
            command = c.ReviseProblem(problem_id=problem_id, status="resolved")
        else:
            statement = problem.statement if problem else "Unchanged"
            command = c.ReviseProblem(problem_id=problem_id, statement=statement)
        if problem is None:
            expected = not_found("problem_id")
        elif variant == "unchanged" or (variant == "resolve" and problem.status == "resolved"):
            expected = violation("problem_id")
        else:
            expected = self.rationale_missing(state, meta)
        self.attempt(plan, command, meta, early, expected)

    # -------------------------------------------------------------------------- goals
    @precondition(lambda self: self.states)
    @rule(data=st.data(), unknown_problem=st.booleans())
    def add_goal(self, data: st.DataObject, unknown_problem: bool) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        known = list(state.problems)
        problems = (
            data.draw(st.lists(st.sampled_from(known), unique=True), label="problems")
            if known
            else []
        )
        expected: Expected = OK
        if unknown_problem:
            problems.append(UNKNOWN)
            expected = violation("problem_ids")
        meta, early = self.envelope(data, state)
        words = data.draw(
            st.sampled_from([None, "I want to feel like myself again"]), label="words"
        )
        command = c.AddGoal(statement=self.text("Goal"), problem_ids=problems, client_words=words)
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(
        data=st.data(),
        variant=st.sampled_from(["restate", "status", "unchanged"]),
        status=st.sampled_from(["active", "achieved", "retired"]),
    )
    def revise_goal(self, data: st.DataObject, variant: str, status: Any) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        goal_id = self.pick_item(data, state.goals, "goal")
        goal = state.goals.get(goal_id)
        meta, early = self.envelope(data, state, needs_rationale=True)
        if variant == "restate":
            command = c.ReviseGoal(goal_id=goal_id, statement=self.text("Goal"))
        elif variant == "status":
            command = c.ReviseGoal(goal_id=goal_id, status=status)
        else:
            command = c.ReviseGoal(goal_id=goal_id, statement=goal.statement if goal else "Same")
        if goal is None:
            expected = not_found("goal_id")
        elif variant == "unchanged" or (variant == "status" and status == goal.status):
            expected = violation("goal_id")
        else:
            expected = self.rationale_missing(state, meta)
        self.attempt(plan, command, meta, early, expected)

    # --------------------------------------------------------------------- objectives
    @precondition(lambda self: self.states)
    @rule(
        data=st.data(),
        variant=st.sampled_from(
            ["valid", "measured", "valid", "target before start", "unknown goal"]
        ),
    )
    def add_objective(self, data: st.DataObject, variant: str) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        goals = list(state.goals)
        goal_id = data.draw(st.sampled_from(goals), label="goal") if goals else UNKNOWN
        if variant == "unknown goal":
            goal_id = UNKNOWN
        target = self.today + timedelta(days=90)
        measure = None
        expected: Expected = OK
        if variant == "measured":
            measure = {"instrument": "PHQ-9", "baseline": 16, "target": 9}
        if variant == "target before start":
            target = self.today - timedelta(days=1)
        if goal_id == UNKNOWN:
            expected = violation("goal_id")
        elif variant == "target before start":
            expected = violation("target_date")
        meta, early = self.envelope(data, state)
        command = c.AddObjective(
            goal_id=goal_id, statement=self.text("Objective"), measure=measure, target_date=target
        )
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(
        data=st.data(),
        variant=st.sampled_from(["restate", "retarget", "target before start", "unchanged"]),
    )
    def revise_objective(self, data: st.DataObject, variant: str) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        objective_id = self.pick_item(data, state.objectives, "objective")
        objective = state.objectives.get(objective_id)
        meta, early = self.envelope(data, state, needs_rationale=True)
        start = objective.effective_date if objective else self.today
        if variant == "restate":
            command = c.ReviseObjective(objective_id=objective_id, statement=self.text("Objective"))
        elif variant == "retarget":
            target = start + timedelta(days=data.draw(st.integers(0, 200), label="days"))
            command = c.ReviseObjective(objective_id=objective_id, target_date=target)
        elif variant == "target before start":
            command = c.ReviseObjective(objective_id=objective_id, target_date=start - timedelta(1))
        else:
            statement = objective.statement if objective else "Same"
            command = c.ReviseObjective(objective_id=objective_id, statement=statement)
        if objective is None:
            expected = not_found("objective_id")
        elif variant == "target before start":
            expected = violation("target_date")
        elif variant == "unchanged" or (
            variant == "retarget" and command.target_date == objective.target_date
        ):
            expected = violation("objective_id")
        else:
            expected = self.rationale_missing(state, meta)
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(
        data=st.data(),
        status=st.sampled_from(["open", "met", "partially_met", "not_met", "no_longer_relevant"]),
    )
    def mark_objective(self, data: st.DataObject, status: Any) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        objective_id = self.pick_item(data, state.objectives, "objective")
        objective = state.objectives.get(objective_id)
        meta, early = self.envelope(data, state, needs_rationale=True)
        if objective is None:
            expected = not_found("objective_id")
        elif objective.status == status:
            expected = violation("status")
        else:
            expected = self.rationale_missing(state, meta)
        command = c.MarkObjectiveStatus(objective_id=objective_id, status=status)
        self.attempt(plan, command, meta, early, expected)

    # ------------------------------------------------------------------ interventions
    @precondition(lambda self: self.states)
    @rule(data=st.data(), unknown_objective=st.booleans())
    def add_intervention(self, data: st.DataObject, unknown_objective: bool) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        known = list(state.objectives)
        linked = (
            data.draw(st.lists(st.sampled_from(known), unique=True), label="links") if known else []
        )
        expected: Expected = OK
        if unknown_objective:
            linked.append(UNKNOWN)
            expected = violation("objective_ids")
        meta, early = self.envelope(data, state)
        command = c.AddIntervention(
            modality="CBT",
            technique=self.text("Technique"),
            frequency="weekly",
            objective_ids=linked,
        )
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data(), variant=st.sampled_from(["reschedule", "discontinue", "unchanged"]))
    def revise_intervention(self, data: st.DataObject, variant: str) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        intervention_id = self.pick_item(data, state.interventions, "intervention")
        intervention = state.interventions.get(intervention_id)
        meta, early = self.envelope(data, state, needs_rationale=True)
        if variant == "reschedule":
            command = c.ReviseIntervention(
                intervention_id=intervention_id, frequency=self.text("every")
            )
        elif variant == "discontinue":
            command = c.ReviseIntervention(intervention_id=intervention_id, status="discontinued")
        else:
            command = c.ReviseIntervention(intervention_id=intervention_id, modality="CBT")
        if intervention is None:
            expected = not_found("intervention_id")
        elif variant == "unchanged" or (
            variant == "discontinue" and intervention.status == "discontinued"
        ):
            expected = violation("intervention_id")
        else:
            expected = self.rationale_missing(state, meta)
        self.attempt(plan, command, meta, early, expected)

    # ------------------------------------------------------------------- measurements
    @precondition(lambda self: self.states)
    @rule(
        data=st.data(),
        variant=st.sampled_from(
            ["valid", "valid", "valid", "out of range", "administered tomorrow", "unknown"]
        ),
        score=st.integers(0, 27),
        days_ago=st.integers(0, 20),
    )
    def record_measurement(
        self, data: st.DataObject, variant: str, score: int, days_ago: int
    ) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        objectives = [None, *state.objectives]
        objective_id = data.draw(st.sampled_from(objectives), label="objective")
        administered = self.today - timedelta(days=days_ago)
        expected: Expected = OK
        if variant == "out of range":
            score = data.draw(st.sampled_from([-1, 28, 80]), label="bad score")
            expected = violation("score")
        elif variant == "administered tomorrow":
            administered = self.today + timedelta(days=1)
            expected = violation("administered_on")
        elif variant == "unknown":
            objective_id = UNKNOWN
            expected = violation("objective_id")
        meta, early = self.envelope(data, state)
        command = c.RecordMeasurement(
            instrument="PHQ-9", score=score, administered_on=administered, objective_id=objective_id
        )
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data())
    def void_measurement(self, data: st.DataObject) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        measurement_id = self.pick_item(data, state.measurements, "measurement")
        measurement = state.measurements.get(measurement_id)
        meta, early = self.envelope(data, state, needs_rationale=True)
        if measurement is None:
            expected = not_found("measurement_id")
        elif measurement.voided_version is not None:
            expected = violation("measurement_id")
        else:
            expected = self.rationale_missing(state, meta)
        command = c.VoidMeasurement(measurement_id=measurement_id)
        self.attempt(plan, command, meta, early, expected)

    # ------------------------------------------------------- strengths, barriers, ...
    @precondition(lambda self: self.states)
    @rule(
        data=st.data(),
        kind=st.sampled_from(["strength", "barrier"]),
        dated=st.sampled_from(["today", "plan start", "future", "before the plan"]),
    )
    def note(self, data: st.DataObject, kind: str, dated: str) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        effective = {
            "today": None,
            "plan start": state.effective_date,
            "future": self.today + timedelta(days=1),
            "before the plan": state.effective_date - timedelta(days=1),
        }[dated]
        expected = OK if dated in ("today", "plan start") else violation("effective_date")
        meta, early = self.envelope(data, state, effective_date=effective)
        text = self.text(kind.title())
        command = c.NoteStrength(text=text) if kind == "strength" else c.NoteBarrier(text=text)
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data(), sessions=st.integers(8, 10))
    def set_timeline(self, data: st.DataObject, sessions: int) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        meta, early = self.envelope(data, state, needs_rationale=state.timeline is not None)
        current = state.timeline
        expected: Expected = OK
        if current is not None:
            if current.estimated_sessions == sessions:
                expected = violation("estimated_sessions")
            else:
                expected = self.rationale_missing(state, meta)
        command = c.SetTimeline(estimated_sessions=sessions, session_frequency="weekly")
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data(), same=st.booleans())
    def set_discharge_criteria(self, data: st.DataObject, same: bool) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        existing = state.discharge_criteria
        meta, early = self.envelope(data, state, needs_rationale=bool(existing))
        criteria = list(existing) if same and existing else [self.text("PHQ-9 below 5")]
        expected: Expected = OK
        if existing:
            expected = violation("criteria") if same else self.rationale_missing(state, meta)
        command = c.SetDischargeCriteria(criteria=criteria)
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data(), same=st.booleans())
    def set_safety_plan(self, data: st.DataObject, same: bool) -> None:
        """The safety plan is replaced whole: refused when unchanged, and on an active plan a
        replacement needs a rationale, like the discharge criteria."""
        plan = self.pick_plan(data)
        state = self.states[plan]
        existing = state.safety_plan
        meta, early = self.envelope(data, state, needs_rationale=existing is not None)
        signs = list(existing.warning_signs) if same and existing else [self.text("Stops eating")]
        expected: Expected = OK
        if existing is not None:
            unchanged = same and existing.coping_strategies == ["Call my sister"]
            expected = (
                violation("warning_signs") if unchanged else self.rationale_missing(state, meta)
            )
        command = c.SetSafetyPlan(
            warning_signs=signs,
            coping_strategies=["Call my sister"],
            contacts=[c.SafetyContactIn(name="988", kind="crisis_line", phone="988")],
        )
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data(), beyond=st.booleans())
    def record_rationale(self, data: st.DataObject, beyond: bool) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        version = state.version + 1 if beyond else data.draw(st.integers(1, state.version))
        kind = data.draw(st.sampled_from(["rationale", "rationale_request", "comment"]))
        meta, early = self.envelope(data, state)
        command = c.RecordRationale(text=self.text("Because"), explains_version=version, kind=kind)
        self.attempt(plan, command, meta, early, violation("explains_version") if beyond else OK)

    # ------------------------------------------------------------------------ reviews
    @precondition(lambda self: self.states)
    @rule(
        data=st.data(),
        reason=st.sampled_from(["scheduled", "milestone", "lack_of_progress", "crisis"]),
    )
    def start_review(self, data: st.DataObject, reason: Any) -> None:
        ready = [
            p for p, s in self.states.items() if s.status == "active" and s.open_review is None
        ]
        if ready and data.draw(st.integers(0, 2), label="a plan not ready?") != 2:
            plan = data.draw(st.sampled_from(ready), label="plan")
        else:
            plan = self.pick_plan(data)
        state = self.states[plan]
        expected: Expected = OK
        if state.status != "active":
            expected = violation("status")
        elif state.open_review is not None:
            expected = violation("reason")
        meta, early = self.envelope(data, state)
        self.attempt(plan, c.StartReview(reason=reason), meta, early, expected)

    @precondition(lambda self: any(s.reviews for s in self.states.values()))
    @rule(
        data=st.data(),
        variant=st.sampled_from(
            ["complete"] * 3 + ["one missing", "unknown review", "completed review"]
        ),
    )
    def complete_review(self, data: st.DataObject, variant: str) -> None:
        """Runs once some plan has a review; a plan with a review open is drawn first."""
        under_review = [p for p, s in self.states.items() if s.open_review is not None]
        if under_review and data.draw(st.integers(0, 4), label="another plan?") != 4:
            plan = data.draw(st.sampled_from(under_review), label="plan")
        else:
            plan = self.pick_plan(data)
        state = self.states[plan]
        # Every objective but those no longer relevant (met ones too: confirmed or reopened).
        required = [o for o in state.objectives.values() if o.status != "no_longer_relevant"]
        statuses = st.sampled_from(["open", "met", "partially_met", "not_met"])
        reasons = st.sampled_from([None, "Slipped back after a loss"])
        assessments = []
        for o in required:
            status = data.draw(statuses, label="assessment")
            reopened = o.status == "met" and status != "met"
            rationale = data.draw(reasons, label="why reopened") if reopened else None
            assessments.append(
                c.AssessmentIn(objective_id=o.id, status=status, rationale=rationale)
            )
        review = state.open_review
        completed = [r.id for r in state.reviews.values() if r.completed_version is not None]
        review_id = review.id if review is not None else UNKNOWN
        expected: Expected = OK
        if variant == "unknown review" or (review is None and variant != "completed review"):
            review_id, expected = UNKNOWN, not_found("review_id")
        elif variant == "completed review":
            if completed:
                review_id, expected = completed[0], violation("review_id")
            else:
                review_id, expected = UNKNOWN, not_found("review_id")
        else:
            if variant == "one missing" and assessments:
                assessments.pop(data.draw(st.integers(0, len(assessments) - 1), label="dropped"))
                expected = violation("assessments")
            before = {o.id: o.status for o in required}
            unexplained = [
                i
                for i, a in enumerate(assessments)
                if before[a.objective_id] == "met" and a.status != "met" and not a.rationale
            ]
            if unexplained:  # checked item by item, before the missing ones
                expected = violation(f"assessments.{unexplained[0]}.rationale")
        meta, early = self.envelope(data, state)
        command = c.CompleteReview(
            review_id=review_id,
            assessments=assessments,
            progress_summary=self.text("Progress"),
            client_input=data.draw(st.sampled_from([None, "Feeling a bit better"])),
        )
        self.attempt(plan, command, meta, early, expected)

    # --------------------------------------------------------------------- signatures
    @precondition(lambda self: self.states)
    @rule(data=st.data(), role=st.sampled_from(["supervisor", "client"]))
    def request_signature(self, data: st.DataObject, role: Any) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        meaning, signer_id, name = SIGNERS[role]
        pending = any(
            r.signature_id is None
            and (r.signer_id, r.role, r.meaning) == (signer_id, role, meaning)
            for r in state.signature_requests.values()
        )
        meta, early = self.envelope(data, state)
        command = c.RequestSignature(
            role=role, meaning=meaning, signer_id=signer_id, signer_name=name
        )
        self.attempt(plan, command, meta, early, violation("signer_id") if pending else OK)

    @precondition(lambda self: self.states)
    @rule(
        data=st.data(),
        role=st.sampled_from(["clinician", "client", "supervisor"]),
        variant=st.sampled_from(["direct", "for a request", "unknown request", "wrong meaning"]),
    )
    def capture_signature(self, data: st.DataObject, role: Any, variant: str) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        meaning, signer_id, name = SIGNERS[role]
        requests = list(state.signature_requests.values())
        request_id: str | None = None
        expected: Expected = OK
        if variant == "unknown request":
            request_id, expected = UNKNOWN, not_found("request_id")
        elif variant in ("for a request", "wrong meaning") and requests:
            request = data.draw(st.sampled_from(requests), label="request")
            request_id = request.id
            role, (meaning, signer_id, name) = request.role, SIGNERS[request.role]
            if variant == "wrong meaning":
                meaning = "reviewed"
            if request.signature_id is not None:
                expected = violation("request_id")
            elif variant == "wrong meaning":
                expected = violation("meaning")
        meta, early = self.envelope(data, state)
        command = c.CaptureSignature(
            role=role,
            meaning=meaning,
            signer_name=name,
            signer_credentials=data.draw(st.sampled_from([None, "LCSW"]), label="credentials"),
            signer_id=signer_id,
            request_id=request_id,
        )
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data())
    def revoke_signature(self, data: st.DataObject) -> None:
        plan = self.pick_plan(data)
        state = self.states[plan]
        signature_id = self.pick_item(data, state.signatures, "signature")
        signature = state.signatures.get(signature_id)
        meta, early = self.envelope(data, state, needs_rationale=True)
        if signature is None:
            expected = not_found("signature_id")
        elif signature.revoked_version is not None:
            expected = violation("signature_id")
        else:
            expected = self.rationale_missing(state, meta)
        self.attempt(plan, c.RevokeSignature(signature_id=signature_id), meta, early, expected)

    @precondition(lambda self: self.states)
    @rule(data=st.data(), variant=st.sampled_from(["renew", "renew", "not later", "a year on"]))
    def renew_plan(self, data: st.DataObject, variant: str) -> None:
        """A renewal moves an active plan's end date later, to less than a year after the
        renewal's date, with a rationale (0.3.0); it supersedes current signatures."""
        active = [p for p, s in self.states.items() if s.status == "active"]
        if active and data.draw(st.integers(0, 3), label="another plan?") != 3:
            plan = data.draw(st.sampled_from(active), label="plan")
        else:
            plan = self.pick_plan(data)
        state = self.states[plan]
        a_year_on = self.today + timedelta(days=365)
        end = {
            "renew": min(state.plan_end_date + timedelta(days=30), a_year_on - timedelta(days=1)),
            "not later": state.plan_end_date,
            "a year on": a_year_on,
        }[variant]
        meta, early = self.envelope(data, state, needs_rationale=True)
        expected: Expected = OK
        if state.status != "active":
            expected = violation("plan_end_date")
        elif meta.rationale is None:
            expected = violation("rationale")
        elif end <= state.plan_end_date or end >= a_year_on:
            expected = violation("plan_end_date")
        self.attempt(plan, c.RenewPlan(plan_end_date=end), meta, early, expected)

    @precondition(lambda self: any(s.version >= 10 for s in self.states.values()))
    @rule(data=st.data())
    def discharge(self, data: st.DataObject) -> None:
        """Only plans with some history are discharged, so that most steps act on live plans;
        the discharged plans then receive every other kind of command."""
        mature = [p for p, s in self.states.items() if s.version >= 10]
        plan = data.draw(st.sampled_from(mature), label="plan")
        state = self.states[plan]
        meta, early = self.envelope(data, state)
        command = c.DischargePlan(reason=self.text("Goals met"))
        self.attempt(plan, command, meta, early, OK)

    # ------------------------------------------------------------ amendment requests
    @precondition(lambda self: self.states)
    @rule(data=st.data())
    def request_amendment(self, data: st.DataObject) -> None:
        variants = ["valid", "valid", "valid", "future", "unknown item"]
        variant = data.draw(st.sampled_from(variants), label="variant")
        plan = self.pick_plan(data)
        state = self.states[plan]
        back = data.draw(st.integers(0, 12), label="days since received")
        received = self.today + timedelta(days=1) if variant == "future" else self.today
        if variant != "future":
            received -= timedelta(days=back)
        meta, early = self.envelope(data, state, on_a_closed_record=True)
        expected: Expected = OK
        if received > self.today or received < state.effective_date:
            expected = violation("received_on")
        elif variant == "unknown item":
            expected = violation("item_ids.0")
        command = c.RequestAmendment(
            concerns=self.text("Goal 1"),
            item_ids=[UNKNOWN] if variant == "unknown item" else list(state.goals)[:1],
            requested_change=self.text("Part-time work, not full time"),
            reason="It was never my goal",
            received_on=received,
            requested_by="Alex Moreno",
        )
        self.attempt(plan, command, meta, early, expected)

    @precondition(lambda self: any(s.amendments for s in self.states.values()))
    @rule(data=st.data())
    def take_amendment_step(self, data: st.DataObject) -> None:
        """One step of a request (or of an unknown one), with the rule that refuses it."""
        step = data.draw(st.sampled_from(["extend", "deny", "disagree", "rebut"]), label="step")
        extra = data.draw(st.sampled_from([0, 10, 30, 31]), label="days added")
        with_requests = [p for p, s in self.states.items() if s.amendments]
        plan = data.draw(st.sampled_from(with_requests), label="plan")
        state = self.states[plan]
        amendment_id = self.pick_item(data, state.amendments, "amendment")
        a = state.amendments.get(amendment_id)
        meta, early = self.envelope(data, state, on_a_closed_record=True)
        expected: Expected = OK
        command: c.PlanCommand
        if step == "extend":
            due = a.original_due_date if a else self.today
            command = c.ExtendAmendmentDeadline(
                amendment_id=amendment_id,
                new_due_date=due + timedelta(days=extra),
                reason=self.text("Records off site"),
            )
            if a is None:
                expected = not_found("amendment_id")
            elif a.status != "open" or a.extended_version is not None:
                expected = violation("amendment_id")
            elif self.today > a.due_date:
                expected = violation("effective_date")
            elif extra in (0, 31):
                expected = violation("new_due_date")
        elif step == "deny":
            command = c.DenyAmendment(
                amendment_id=amendment_id,
                denial_basis="accurate_and_complete",
                denial_text=self.text("The record is accurate"),
            )
            if a is None:
                expected = not_found("amendment_id")
            elif a.status != "open":
                expected = violation("amendment_id")
        elif step == "disagree":
            command = c.FileDisagreementStatement(
                amendment_id=amendment_id, statement=self.text("I disagree")
            )
            if a is None:
                expected = not_found("amendment_id")
            elif a.status != "denied" or a.disagreement_version is not None:
                expected = violation("amendment_id")
        else:
            command = c.FileRebuttal(amendment_id=amendment_id, rebuttal=self.text("We do not"))
            if a is None:
                expected = not_found("amendment_id")
            elif a.disagreement_version is None or a.rebuttal_version is not None:
                expected = violation("amendment_id")
        self.attempt(plan, command, meta, early, expected)

    # ------------------------------------------------- ids, retries and unknown plans
    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def retry_an_earlier_command(self, data: st.DataObject) -> None:
        """The same id and payload again (a client that lost the reply): the first answer,
        nothing stored, even if the plan has moved on or been discharged since."""
        plan_id, command, meta, result = data.draw(st.sampled_from(self.done), label="earlier")
        before = self.stored_events()
        if plan_id is None:
            assert isinstance(command, c.OpenPlan)
            again = self.service.open_plan(command, meta)
        else:
            again = self.service.execute(plan_id, command, meta)
        assert again == result
        assert self.stored_events() == before

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def reuse_an_id_with_another_payload(self, data: st.DataObject) -> None:
        _, _, earlier, _ = data.draw(st.sampled_from(self.done), label="earlier")
        plan = self.pick_plan(data)
        before = self.stored_events()
        with pytest.raises(CommandReused):
            self.service.execute(plan, c.NoteStrength(text=self.text("Other")), earlier)
        assert self.stored_events() == before

    @precondition(lambda self: self.states)
    @rule(data=st.data())
    def command_an_unknown_plan(self, data: st.DataObject) -> None:
        meta = self.meta(data)
        before = self.stored_events()
        with pytest.raises(PlanNotFound):
            self.service.execute(uuid4(), c.NoteStrength(text=self.text("Strength")), meta)
        assert self.stored_events() == before
        assert self.service.store.find_command(meta.command_id) is None
        self.refused_ids.append(meta.command_id)

    # --------------------------------------------------------------------- invariants
    @invariant()
    def every_observed_version_replays_exactly(self) -> None:
        fingerprint = self.store_fingerprint()
        if fingerprint == self.verified_fingerprint:
            return  # the store is byte for byte the one every version was last checked against
        for plan, versions in self.observed.items():
            for version, seen in versions.items():
                assert self.service.load(plan, version).model_dump() == seen, (plan, version)
        for plan, state in self.states.items():
            # a plain fold of every stored event (no snapshot) agrees with the snapshot path
            assert fold(self.service.events_of(plan)) == state
        self.verified_fingerprint = fingerprint

    @invariant()
    def the_store_holds_exactly_the_observed_events(self) -> None:
        assert self.stored_events() == sum(len(v) for v in self.observed.values())
        for plan, state in self.states.items():
            assert max(self.observed[plan]) == state.version

    def store_fingerprint(self) -> str:
        """A digest of every stored event and snapshot: what ``load`` reads."""
        digest = hashlib.sha256()
        with recorder_of(self.service).engine.connect() as conn:
            for table, order in ((events, events.c.id), (snapshots, snapshots.c.version)):
                for row in conn.execute(select(table).order_by(*table.primary_key, order)):
                    digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()


@pytest.fixture
def plan_machine(request: pytest.FixtureRequest, key_dir: Path) -> type[PlanMachine]:
    backend = request.param
    pg_database = request.getfixturevalue("pg_database") if backend == "postgresql" else None
    return type(
        f"PlanMachine_{backend}",
        (PlanMachine,),
        {"backend": backend, "key_dir": key_dir, "pg_database": pg_database},
    )


@pytest.mark.parametrize("plan_machine", BACKENDS, indirect=True)
def test_every_observed_version_replays_to_what_was_observed(
    plan_machine: type[PlanMachine],
) -> None:
    run_state_machine_as_test(plan_machine, settings=SETTINGS)
