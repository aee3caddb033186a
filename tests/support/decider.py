"""One plan driven by the pure deciders and the fold, with no store: the builder of the domain's
unit tests (``Plan``), and a signed plan with two objectives (``active_plan``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.decide import Context, decide, open_plan
from plantrail.domain.plan import PlanState, fold
from tests.support.plans import meta, open_command

PLAN_ID = UUID("6f1c9a52-0d4b-4f57-9b1e-3a2f8c7d5e10")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
PLAN_START = TODAY - timedelta(days=30)


class Plan:
    """One plan driven by the pure deciders; every event kept, the state folded as we go."""

    def __init__(self, effective: date | None = PLAN_START, late_entry_days: int = 7) -> None:
        self.now = NOW
        self.late_entry_days = late_entry_days
        start = effective or TODAY
        self.events: list[ev.PlanEvent] = open_plan(
            open_command(end=start + timedelta(days=300)), self.context(effective_date=effective)
        )
        state = fold(self.events)
        assert state is not None
        self.state: PlanState = state

    def context(self, **fields: Any) -> Context:
        return Context(PLAN_ID, meta(**fields), self.now, self.late_entry_days)

    def run(self, command: c.PlanCommand, **fields: Any) -> list[ev.PlanEvent]:
        events = decide(self.state, command, self.context(**fields))
        self.events.extend(events)
        folded = fold(events, self.state)
        assert folded is self.state
        return events

    def add(self, command: c.PlanCommand, **fields: Any) -> ev.PlanEvent:
        (event,) = self.run(command, **fields)
        return event

    def at(self, version: int) -> PlanState:
        """The plan replayed from scratch up to ``version``."""
        state = fold(e for e in self.events if e.originator_version <= version)
        assert state is not None
        return state

    # small builders for a realistic plan
    def goal(self, text: str = "Mood lifts enough to return to work") -> str:
        return str(self.add(c.AddGoal(statement=text)).goal_id)

    def objective(self, goal_id: str, text: str, **fields: Any) -> ev.ObjectiveAdded:
        event = self.add(c.AddObjective(goal_id=goal_id, statement=text), **fields)
        assert isinstance(event, ev.ObjectiveAdded)
        return event

    def sign(self, role: str = "clinician", **fields: Any) -> ev.SignatureCaptured:
        names = {"clinician": ("Dana Reyes", "dana"), "client": ("Alex Moreno", "alex")}
        name, signer = names.get(role, ("Sam Okafor", "sam"))
        meaning = {"clinician": "authored", "client": "agreed"}.get(role, "approved")
        fields.setdefault("signer_id", signer)
        event = self.add(c.CaptureSignature(role=role, meaning=meaning, signer_name=name, **fields))
        assert isinstance(event, ev.SignatureCaptured)
        return event


def active_plan() -> tuple[Plan, str, ev.ObjectiveAdded, ev.ObjectiveAdded]:
    plan = Plan()
    goal = plan.goal()
    first = plan.objective(goal, "PHQ-9 below 10 by the summer")
    second = plan.objective(goal, "Four planned activities a week")
    plan.sign("clinician")
    return plan, goal, first, second
