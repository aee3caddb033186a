"""Plans for projection tests, built through the pure deciders with a clock the test moves.

No database: ``PlanBuilder`` keeps the event list and the folded state, exactly as the service
would, so every history here is one the rules accept. The sample plan follows the structure of
a depression treatment plan (one diagnosis, a functional problem with intake scores, two goals,
SMART objectives with baselines and targets, named interventions, strengths, barriers, timeline
and discharge criteria), written for these tests.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.decide import Context, decide, open_plan
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState, apply, fold
from plantrail.domain.values import Actor, EntryKind, ObjectiveStatus
from tests.support.plans import CLINICIAN, meta

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SUPERVISOR = Actor(user_id="sam", name="Sam Okafor", role="supervisor", credentials="PhD")

_CREATED: dict[type[PlanEvent], str] = {
    ev.ProblemAdded: "problem_id",
    ev.GoalAdded: "goal_id",
    ev.ObjectiveAdded: "objective_id",
    ev.InterventionAdded: "intervention_id",
    ev.MeasurementRecorded: "measurement_id",
    ev.StrengthNoted: "strength_id",
    ev.BarrierNoted: "barrier_id",
    ev.ReviewStarted: "review_id",
    ev.SignatureRequested: "request_id",
    ev.SignatureCaptured: "signature_id",
    ev.AmendmentRequested: "amendment_id",
}


class PlanBuilder:
    """One plan's history, grown command by command through ``decide``."""

    def __init__(self, start: datetime = START, *, end: date = date(2026, 12, 31)) -> None:
        self.now = start
        self.plan_id = uuid.uuid4()
        command = c.OpenPlan(
            client=c.ClientIn(id="MRN-2001", name="Jordan Ellis", date_of_birth=date(1986, 2, 11)),
            clinician=c.ClinicianIn(
                user_id="dana", name="Dana Reyes", credentials="LCSW", license_number="LC-4471"
            ),
            supervisor=c.ClinicianIn(user_id="sam", name="Sam Okafor", credentials="PhD"),
            plan_end_date=end,
        )
        self.events: list[PlanEvent] = open_plan(command, Context(self.plan_id, meta(), start))
        state = fold(self.events)
        assert state is not None
        self.state: PlanState = state

    def run(
        self,
        command: c.PlanCommand,
        *,
        actor: Actor = CLINICIAN,
        rationale: str | None = None,
        effective: date | None = None,
        entry_kind: EntryKind | None = None,
    ) -> list[PlanEvent]:
        """Decide ``command`` at the builder's clock and fold the new events in."""
        envelope = meta(actor, rationale=rationale, effective_date=effective, entry_kind=entry_kind)
        new = decide(self.state, command, Context(self.plan_id, envelope, self.now))
        for event in new:
            apply(self.state, event)
        self.events.extend(new)
        return new

    def add(self, command: c.PlanCommand, **kwargs: Any) -> str:
        """Run ``command`` and return the id of the item it created."""
        first = self.run(command, **kwargs)[0]
        return str(getattr(first, _CREATED[type(first)]))

    def advance(self, days: float = 0, hours: float = 0) -> None:
        self.now += timedelta(days=days, hours=hours)

    @property
    def today(self) -> date:
        return self.now.date()

    def at(self, version: int) -> PlanState:
        """A fresh fold of the history up to ``version``."""
        state = fold(self.events[:version])
        assert state is not None
        return state

    @property
    def plan(self) -> UUID:
        return self.plan_id


def depression_plan(
    start: datetime = START, *, sign: bool = True
) -> tuple[PlanBuilder, dict[str, str]]:
    """A complete depression plan; signed by clinician and client unless ``sign`` is false."""
    b = PlanBuilder(start)
    ids: dict[str, str] = {}
    b.run(
        c.AddDiagnosis(
            code="F32.1",
            description="Major depressive disorder, single episode, moderate",
            primary=True,
        )
    )
    ids["problem1"] = b.add(
        c.AddProblem(
            statement="Low mood and loss of interest since a job loss five months ago; in bed most "
            "of each day off; PHQ-9 of 19 at intake.",
            diagnosis_codes=["F32.1"],
        )
    )
    ids["goal1"] = b.add(
        c.AddGoal(
            statement="Mood lifts enough to re-engage with work, friends and self-care.",
            problem_ids=[ids["problem1"]],
            client_words="I want my weekends back.",
        )
    )
    ids["goal2"] = b.add(
        c.AddGoal(
            statement="No thoughts of being better off dead, with a written plan for hard days.",
            problem_ids=[ids["problem1"]],
        )
    )
    ids["objective11"] = b.add(
        c.AddObjective(
            goal_id=ids["goal1"],
            statement="PHQ-9 falls from 19 to under 10 within twelve weeks.",
            measure={"instrument": "PHQ-9", "baseline": 19, "target": 9},
            target_date=date(2026, 4, 1),
        )
    )
    ids["objective12"] = b.add(
        c.AddObjective(
            goal_id=ids["goal1"],
            statement="Four planned activities a week from the activation menu, one social.",
            measure={
                "instrument": "activity log",
                "baseline": 0,
                "target": 4,
                "direction": "increase",
                "unit": "activities a week",
            },
            target_date=date(2026, 2, 16),
        )
    )
    ids["objective21"] = b.add(
        c.AddObjective(
            goal_id=ids["goal2"],
            statement="Writes a safety plan (warning signs, coping, contacts) by 19 January 2026.",
            measure={
                "instrument": "safety plan steps",
                "baseline": 0,
                "target": 5,
                "direction": "increase",
            },
            target_date=date(2026, 1, 19),
        )
    )
    ids["intervention1"] = b.add(
        c.AddIntervention(
            modality="Behavioural activation",
            technique="Activity scheduling and monitoring with a weekly menu",
            frequency="weekly",
            objective_ids=[ids["objective11"], ids["objective12"]],
        )
    )
    ids["intervention2"] = b.add(
        c.AddIntervention(
            modality="CBT",
            technique="Seven-column thought records with balanced alternatives",
            frequency="weekly",
            objective_ids=[ids["objective11"]],
        )
    )
    ids["intervention3"] = b.add(
        c.AddIntervention(
            modality="Safety planning",
            technique="Stanley–Brown safety plan, reviewed each session",
            frequency="weekly",
            objective_ids=[ids["objective21"]],
        )
    )
    b.run(c.NoteStrength(text="A sister who checks in every day."))
    b.run(c.NoteBarrier(text="Rotating shifts make a fixed weekly slot hard to keep."))
    b.run(c.SetTimeline(estimated_sessions=16, session_frequency="weekly"))
    b.run(
        c.SetDischargeCriteria(
            criteria=[
                "PHQ-9 under 5 at four consecutive administrations.",
                "No suicidal ideation for eight consecutive weeks.",
            ]
        )
    )
    ids["intake_phq9"] = b.add(
        c.RecordMeasurement(instrument="PHQ-9", score=19, administered_on=b.today)
    )
    if sign:
        ids["clinician_signature"] = sign_as_clinician(b)
        ids["client_signature"] = b.add(
            c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis")
        )
    return b, ids


def sign_as_clinician(b: PlanBuilder, credentials: str | None = "LCSW") -> str:
    return b.add(
        c.CaptureSignature(
            role="clinician",
            meaning="authored",
            signer_name="Dana Reyes",
            signer_credentials=credentials,
            signer_id="dana",
        )
    )


def complete_review(
    b: PlanBuilder,
    summary: str,
    statuses: dict[str, ObjectiveStatus] | None = None,
    *,
    reason: str = "scheduled",
    next_review: date | None = None,
    effective: date | None = None,
) -> str:
    """Start and complete a review; every objective not marked no longer relevant is assessed
    ('partially_met' for an open one, a met one confirmed, unless ``statuses`` says otherwise).
    Returns the review id."""
    review_id = b.add(c.StartReview(reason=reason), effective=effective)
    statuses = statuses or {}
    assessments = [
        c.AssessmentIn(
            objective_id=o.id,
            status=statuses.get(o.id, "met" if o.status == "met" else "partially_met"),
            rationale="Reopened at this review" if o.status == "met" else None,
        )
        for o in b.state.objectives.values()
        if o.status != "no_longer_relevant"
    ]
    b.run(
        c.CompleteReview(
            review_id=review_id,
            assessments=assessments,
            progress_summary=summary,
            next_review_date=next_review,
        ),
        effective=effective,
    )
    return review_id
