"""The demo caseload: seven plausible plans written through the real engine.

Depression, generalised anxiety, PTSD and alcohol use (plus one unsigned draft), three
clinicians under one supervisor, three reviews on each of those active plans: some genuinely
updated, some copied forward, one stalled objective, a late-entered score, a voided score,
superseded and pending signatures, and an objective statement reused verbatim across two
clients. Two later plans: social anxiety, whose review is due today with nothing changed since
the last one (to try the continuation-reason prompt), and an adolescent's depression plan with
a guardian and the PHQ-A. The wording is plantrail's own.

History has to look as if it was typed over the last ten months, so the service runs on a
simulated clock while the demo writes; the recorded times are still assigned by the service,
never passed in with a command.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from plantrail.domain import commands as c
from plantrail.domain.service import CommandResult, PlanService
from plantrail.domain.values import Actor, Measure

DEMO_PRACTICE = "Riverside Counselling Associates (demo)"
"""The practice the demo caseload belongs to, printed on its audit packets."""

DANA = Actor(user_id="dana-reyes", name="Dana Reyes", role="clinician", credentials="LCSW")
MARCUS = Actor(user_id="marcus-hill", name="Marcus Hill", role="clinician", credentials="LPC")
PRIYA = Actor(user_id="priya-shah", name="Priya Shah", role="clinician", credentials="PsyD")
SAM = Actor(user_id="sam-okafor", name="Sam Okafor", role="supervisor", credentials="PhD, LP")

SUPERVISOR = c.ClinicianIn(
    user_id=SAM.user_id, name=SAM.name, credentials=SAM.credentials, license_number="LP-20931"
)
TEMPLATED_OBJECTIVE = (
    "Client will report a reduction in anxiety symptoms as evidenced by GAD-7 scores."
)
"""Reused verbatim on two clients' plans: the caseload report flags it as templated."""


class DemoClock:
    """A clock the demo moves forward through the months it simulates (never past real now)."""

    def __init__(self, start: datetime, ceiling: datetime) -> None:
        self.now = start
        self.ceiling = ceiling

    def __call__(self) -> datetime:
        self.now = min(self.now + timedelta(minutes=3), self.ceiling)
        return self.now

    def go_to(self, day: date, hour: int = 9) -> None:
        target = datetime.combine(day, time(hour), tzinfo=UTC)
        self.now = min(max(self.now, target), self.ceiling)


@dataclass
class PlanWriter:
    """Writes one plan's history on behalf of its clinician."""

    service: PlanService
    clock: DemoClock
    actor: Actor
    start: date
    plan_id: UUID | None = None
    mrn: str | None = None
    ids: dict[str, str] = field(default_factory=dict)
    met: set[str] = field(default_factory=set)
    """The objectives the last review left met (the writer keeps what it wrote, so it never
    reads the plan back: plans are read through the gateway alone)."""
    _seq: Any = field(default_factory=lambda: itertools.count(1))

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    def on(self, offset: int, hour: int = 9) -> PlanWriter:
        self.clock.go_to(self.day(offset), hour)
        return self

    def meta(self, actor: Actor | None = None, **fields: Any) -> c.CommandMeta:
        who = actor or self.actor
        command_id = f"demo-{self.start.isoformat()}-{who.user_id}-{next(self._seq)}"
        return c.CommandMeta(actor=who, command_id=command_id, **fields)

    def open(self, command: c.OpenPlan) -> None:
        result = self.service.open_plan(command, self.meta(effective_date=self.start))
        self.plan_id = UUID(result.plan_id)
        self.mrn = command.client.id

    def do(
        self,
        command: c.PlanCommand,
        name: str | None = None,
        actor: Actor | None = None,
        **meta: Any,
    ) -> CommandResult:
        assert self.plan_id is not None
        result = self.service.execute(self.plan_id, command, self.meta(actor, **meta))
        if name is not None and result.item_id is not None:
            self.ids[name] = result.item_id
        return result

    def sign(self, actor: Actor, role: str, meaning: str, **extra: Any) -> None:
        self.do(
            c.CaptureSignature.model_validate(
                {
                    "role": role,
                    "meaning": meaning,
                    "signer_name": actor.name,
                    "signer_credentials": actor.credentials,
                    "signer_id": actor.user_id,
                    **extra,
                }
            ),
            actor=actor,
        )

    def sign_client(self, name: str) -> None:
        self.do(c.CaptureSignature(role="client", meaning="agreed", signer_name=name))

    def score(
        self, instrument: str, score: float, offset: int, objective: str | None = None
    ) -> str:
        result = self.do(
            c.RecordMeasurement(
                instrument=instrument,
                score=score,
                administered_on=self.day(offset),
                objective_id=self.ids.get(objective) if objective else None,
            )
        )
        assert result.item_id is not None
        return result.item_id

    def review(
        self,
        offset: int,
        assessments: dict[str, str],
        summary: str,
        client_input: str | None = None,
        reason: str = "scheduled",
        next_review: int | None = None,
    ) -> None:
        self.on(offset, 10)
        started = self.do(c.StartReview.model_validate({"reason": reason}))
        assert started.item_id is not None
        self.on(offset, 11)
        assert self.plan_id is not None
        listed = [
            c.AssessmentIn.model_validate({"objective_id": self.ids[k], "status": v})
            for k, v in assessments.items()
        ]
        named = {a.objective_id for a in listed}
        # Every review assesses every objective: a met one not named here is confirmed met.
        confirmed = [
            c.AssessmentIn(objective_id=item, status="met", note="Still met")
            for item in self.ids.values()  # in the order the objectives were added
            if item in self.met and item not in named
        ]
        self.do(
            c.CompleteReview(
                review_id=started.item_id,
                assessments=listed + confirmed,
                progress_summary=summary,
                client_input=client_input,
                next_review_date=self.day(next_review) if next_review is not None else None,
            )
        )
        self.met = {a.objective_id for a in listed + confirmed if a.status == "met"}


def _m(fields: dict[str, Any]) -> Measure:
    return Measure.model_validate(fields)


def _client(mrn: str, name: str, born: date) -> c.ClientIn:
    return c.ClientIn(id=mrn, name=name, date_of_birth=born)


def _clinician(actor: Actor, license_number: str) -> c.ClinicianIn:
    return c.ClinicianIn(
        user_id=actor.user_id,
        name=actor.name,
        credentials=actor.credentials,
        license_number=license_number,
    )


def _depression(w: PlanWriter) -> None:
    """Jordan Ellis, recurrent depression: genuine progress, each review changes the plan."""
    w.open(
        c.OpenPlan(
            client=_client("MRN-20417", "Jordan Ellis", date(1984, 2, 9)),
            clinician=_clinician(DANA, "LCSW-88213"),
            supervisor=SUPERVISOR,
            plan_end_date=w.day(360),
            service_type="individual",
            session_minutes=53,
        )
    )
    w.do(
        c.AddDiagnosis(
            code="F33.1", description="Major depressive disorder, recurrent, moderate", primary=True
        )
    )
    w.do(
        c.AddProblem(
            statement="Depressed mood most days with withdrawal from friends; PHQ-9 of 18 at intake, off work for six weeks.",
            diagnosis_codes=["F33.1"],
        ),
        "p1",
    )
    w.do(
        c.AddGoal(
            statement="Mood lifts enough to return to work and see friends again.",
            problem_ids=[w.ids["p1"]],
            client_words="I want to get my life back.",
        ),
        "g1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Lower PHQ-9 from 18 to under 10.",
            measure=_m({"instrument": "PHQ-9", "baseline": 18, "target": 9}),
            target_date=w.day(270),
        ),
        "o1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Complete three planned pleasant activities a week, logged in the activity diary.",
            measure=_m(
                {
                    "instrument": "activity diary",
                    "baseline": 0,
                    "target": 3,
                    "direction": "increase",
                    "unit": "activities/week",
                }
            ),
            target_date=w.day(120),
        ),
        "o2",
    )
    w.do(
        c.AddIntervention(
            modality="CBT",
            technique="Behavioural activation with weekly activity scheduling",
            frequency="weekly, 53 minutes",
            objective_ids=[w.ids["o1"], w.ids["o2"]],
        )
    )
    w.do(
        c.AddIntervention(
            modality="Measurement-based care",
            technique="PHQ-9 at every fourth session, reviewed with the client",
            frequency="monthly",
            objective_ids=[w.ids["o1"]],
        )
    )
    w.do(c.NoteStrength(text="Close relationship with a sister who checks in daily."))
    w.do(c.NoteBarrier(text="Night shifts before leave disrupted sleep."))
    w.do(c.SetTimeline(estimated_sessions=24, session_frequency="weekly"))
    w.do(
        c.SetDischargeCriteria(
            criteria=[
                "PHQ-9 under 10 on two consecutive administrations",
                "Back at work for four weeks",
            ]
        )
    )
    w.score("PHQ-9", 18, 0, "o1")
    w.sign(DANA, "clinician", "authored")
    w.sign_client("Jordan Ellis")
    w.do(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id=SAM.user_id, signer_name=SAM.name
        )
    )
    w.on(2)
    w.sign(SAM, "supervisor", "approved")
    w.on(30).score("PHQ-9", 16, 30, "o1")
    w.on(60).score("PHQ-9", 14, 60, "o1")
    w.on(88)
    w.do(
        c.SetSafetyPlan(
            warning_signs=["Stays in bed past noon", "Stops answering my sister's texts"],
            coping_strategies=["Walk to the park", "Shower and put on music"],
            contacts=[
                c.SafetyContactIn(name="Sister", kind="support", phone="555-0142"),
                c.SafetyContactIn(name="Dana Reyes, LCSW", kind="professional"),
                c.SafetyContactIn(
                    name="988 Suicide and Crisis Lifeline", kind="crisis_line", phone="988"
                ),
            ],
            means_restriction=["Sleeping tablets kept by my sister"],
        ),
        rationale="Passive thoughts of death disclosed at session 12; safety plan written together.",
    )
    w.do(
        c.ReviseObjective(
            objective_id=w.ids["o2"],
            statement="Complete five planned activities a week, including one with a friend.",
            measure=_m(
                {
                    "instrument": "activity diary",
                    "baseline": 3,
                    "target": 5,
                    "direction": "increase",
                    "unit": "activities/week",
                }
            ),
        ),
        rationale="Met three a week consistently since week 6; raising the target and adding social contact.",
    )
    w.review(
        90,
        {"o1": "partially_met", "o2": "open"},
        "PHQ-9 down from 18 to 14. Activity target met and raised; social withdrawal is now the focus.",
        "Walking with my sister helps more than I expected.",
    )
    w.on(120).score("PHQ-9", 12, 120, "o1")
    w.on(150).score("PHQ-9", 11, 150, "o1")
    w.on(178)
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Return to work on a graded schedule: two shifts a week by week 30.",
            target_date=w.day(240),
            measure=_m(
                {
                    "instrument": "shifts worked",
                    "baseline": 0,
                    "target": 2,
                    "direction": "increase",
                    "unit": "shifts/week",
                }
            ),
        ),
        "o3",
    )
    w.review(
        180,
        {"o1": "partially_met", "o2": "met", "o3": "open"},
        "Five activities a week sustained for a month. PHQ-9 at 11. Occupational health cleared a graded return.",
        "Nervous about work but ready to try.",
    )
    w.on(210).score("PHQ-9", 9, 210, "o1")
    w.on(240).score("PHQ-9", 8, 240, "o1")
    w.review(
        270,
        {"o1": "met", "o3": "met"},
        "PHQ-9 under 10 twice (9, then 8). Working two shifts a week. Discussing discharge and a relapse-prevention plan.",
        "I feel like myself most days.",
    )
    # A request to amend the record (45 CFR 164.526), denied, with the client's statement of
    # disagreement and the practice's rebuttal: they go with every later disclosure.
    w.on(274)
    aid = w.do(
        c.RequestAmendment(
            concerns="The diagnosis of recurrent depression and the problem statement.",
            item_ids=["F33.1", w.ids["p1"]],
            requested_change="Remove 'recurrent': this is my first episode of depression.",
            reason="What happened in 2019 was grief after my father died, not depression.",
            received_on=w.day(272),
            requested_by="Jordan Ellis (client)",
        )
    ).item_id
    assert aid is not None
    w.on(286)
    w.do(
        c.DenyAmendment(
            amendment_id=aid,
            denial_basis="accurate_and_complete",
            denial_text=(
                "The intake assessment documents a five-week episode in 2019 with depressed "
                "mood, loss of interest and poor sleep that met the criteria for a major "
                "depressive episode, so the diagnosis is accurate and complete."
            ),
        )
    )
    w.on(291)
    w.do(
        c.FileDisagreementStatement(
            amendment_id=aid,
            statement=(
                "I disagree. In 2019 I was grieving my father; nobody treated me for "
                "depression then. I want anyone who reads my record to know that."
            ),
        )
    )
    w.on(294)
    w.do(
        c.FileRebuttal(
            amendment_id=aid,
            rebuttal=(
                "Bereavement was considered at intake; the 2019 symptoms lasted beyond and "
                "went further than grief, as the intake note records."
            ),
        )
    )


def _anxiety(w: PlanWriter) -> None:
    """Morgan Lee, generalised anxiety: the plan language never changes after the first review."""
    w.open(
        c.OpenPlan(
            client=_client("MRN-20533", "Morgan Lee", date(1996, 11, 23)),
            clinician=_clinician(MARCUS, "LPC-51177"),
            supervisor=SUPERVISOR,
            plan_end_date=w.day(355),
            review_interval_days=60,
            service_type="individual",
            session_minutes=45,
        )
    )
    w.do(c.AddDiagnosis(code="F41.1", description="Generalized anxiety disorder", primary=True))
    w.do(
        c.AddProblem(
            statement="Excessive worry about work and health on most days; GAD-7 of 15.",
            diagnosis_codes=["F41.1"],
        ),
        "p1",
    )
    w.do(c.AddGoal(statement="Reduce anxiety.", problem_ids=[w.ids["p1"]]), "g1")
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement=TEMPLATED_OBJECTIVE,
            measure=_m({"instrument": "GAD-7", "baseline": 15, "target": 7}),
            target_date=w.day(180),
        ),
        "o1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"], statement="Client will use coping skills.", target_date=w.day(180)
        ),
        "o2",
    )
    w.do(
        c.AddIntervention(
            modality="CBT",
            technique="Worry exposure and cognitive restructuring",
            frequency="weekly",
            objective_ids=[w.ids["o1"], w.ids["o2"]],
        )
    )
    w.do(
        c.AddIntervention(
            modality="Psychoeducation", technique="Handouts on anxiety", frequency="as needed"
        )
    )
    w.do(c.SetDischargeCriteria(criteria=["GAD-7 under 8"]))
    w.score("GAD-7", 15, 0, "o1")
    w.sign(MARCUS, "clinician", "authored")
    w.sign_client("Morgan Lee")
    w.do(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id=SAM.user_id, signer_name=SAM.name
        )
    )
    w.on(30).score("GAD-7", 14, 30, "o1")
    w.on(58)
    w.do(
        c.ReviseObjective(
            objective_id=w.ids["o2"], statement="Client will use coping skills daily."
        ),
        rationale="Clarified frequency after discussing practice at home.",
    )
    w.review(
        60,
        {"o1": "open", "o2": "open"},
        "Client continues to work on anxiety. Progress is slow. Continue current plan.",
    )
    w.on(90).score("GAD-7", 15, 90, "o1")
    w.review(
        120,
        {"o1": "open", "o2": "open"},
        "Client continues to work on anxiety. Progress is slow. Continue current plan.",
    )
    w.on(150).score("GAD-7", 15, 150, "o1")
    w.review(
        180,
        {"o1": "open", "o2": "open"},
        "client continues to work on anxiety.  Progress is slow; continue current plan",
    )


def _ptsd(w: PlanWriter) -> None:
    """Riley Chen, PTSD: a late-entered score, a superseded signature, a stalled objective;
    the plan ends before its next review, so its renewal is due."""
    w.open(
        c.OpenPlan(
            client=_client("MRN-20602", "Riley Chen", date(1979, 6, 30)),
            clinician=_clinician(PRIYA, "PSY-30458"),
            supervisor=SUPERVISOR,
            plan_end_date=w.day(350),
            service_type="individual",
            session_minutes=90,
        )
    )
    w.do(
        c.AddDiagnosis(
            code="F43.10", description="Post-traumatic stress disorder, unspecified", primary=True
        )
    )
    w.do(c.AddDiagnosis(code="G47.00", description="Insomnia, unspecified"))
    w.do(
        c.AddProblem(
            statement="Intrusive memories and nightmares after a road traffic collision; PCL-5 of 52; avoids driving entirely.",
            diagnosis_codes=["F43.10"],
        ),
        "p1",
    )
    w.do(
        c.AddProblem(
            statement="Sleeps about four hours a night because of nightmares.",
            diagnosis_codes=["G47.00"],
        ),
        "p2",
    )
    w.do(
        c.AddGoal(
            statement="Trauma memories lose their grip enough to drive to work again.",
            problem_ids=[w.ids["p1"]],
            client_words="I want to be able to drive my kids to school.",
        ),
        "g1",
    )
    w.do(c.AddGoal(statement="Restful sleep on most nights.", problem_ids=[w.ids["p2"]]), "g2")
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Lower PCL-5 from 52 to under 33.",
            measure=_m({"instrument": "PCL-5", "baseline": 52, "target": 32}),
            target_date=w.day(240),
        ),
        "o1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Complete the in-vivo driving hierarchy up to a 20-minute motorway drive.",
            measure=_m(
                {
                    "instrument": "hierarchy steps completed",
                    "baseline": 0,
                    "target": 8,
                    "direction": "increase",
                }
            ),
            target_date=w.day(200),
        ),
        "o2",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g2"],
            statement="Sleep six hours on five nights a week, per sleep diary.",
            measure=_m(
                {
                    "instrument": "sleep diary",
                    "baseline": 1,
                    "target": 5,
                    "direction": "increase",
                    "unit": "nights/week",
                }
            ),
            target_date=w.day(150),
        ),
        "o3",
    )
    w.do(
        c.AddIntervention(
            modality="Prolonged exposure",
            technique="Imaginal exposure to the collision memory with processing",
            frequency="weekly, 90 minutes",
            objective_ids=[w.ids["o1"], w.ids["o2"]],
        )
    )
    w.do(
        c.AddIntervention(
            modality="CBT-I",
            technique="Imagery rehearsal for nightmares and stimulus control",
            frequency="fortnightly",
            objective_ids=[w.ids["o3"]],
        )
    )
    w.do(c.NoteStrength(text="Highly motivated by wanting to drive the children again."))
    w.do(c.NoteBarrier(text="Insurance claim meetings revive the memory."))
    w.do(c.SetDischargeCriteria(criteria=["PCL-5 under 33", "Drives to work alone for two weeks"]))
    w.score("PCL-5", 52, 0, "o1")
    w.sign(PRIYA, "clinician", "authored")
    w.sign_client("Riley Chen")
    w.on(20)
    w.do(
        c.ReviseObjective(objective_id=w.ids["o3"], target_date=w.day(170)),
        rationale="Client starts a new shift pattern in month 3; allowing more time.",
    )
    w.sign_client("Riley Chen")  # the first client signature is now superseded by the revision
    w.on(63).score("PCL-5", 44, 42, "o1")  # administered in week 6, typed in three weeks later
    w.review(
        90,
        {"o1": "partially_met", "o2": "not_met", "o3": "partially_met"},
        "PCL-5 down from 52 to 44. Driving hierarchy stalled at step 2: cancels exposure sessions after claim meetings. Sleep improving.",
        "The claim meetings wreck my week.",
    )
    w.on(130).score("PCL-5", 41, 130, "o1")
    w.review(
        180,
        {"o1": "partially_met", "o2": "not_met", "o3": "met"},
        "PCL-5 at 41. Still at step 2 of the hierarchy; avoidance persists. Sleeps six hours most nights.",
        "Sleep is much better.",
    )
    w.on(200)
    w.do(
        c.ReviseObjective(
            objective_id=w.ids["o2"],
            statement="Complete the driving hierarchy with the clinician present for steps 3 to 5, then alone.",
            target_date=w.day(300),
        ),
        rationale="Not met at two reviews: changing approach to therapist-accompanied exposure instead of homework.",
    )
    w.on(220).score("PCL-5", 34, 220, "o1")
    w.review(
        270,
        {"o1": "partially_met", "o2": "partially_met"},
        "Accompanied exposure worked: reached step 6. PCL-5 at 34.",
        "I drove on the motorway for ten minutes.",
    )


def _alcohol(w: PlanWriter) -> None:
    """Casey Brooks, alcohol use disorder: one review changed only in dates, a voided score."""
    w.open(
        c.OpenPlan(
            client=_client("MRN-20688", "Casey Brooks", date(1971, 4, 14)),
            clinician=_clinician(DANA, "LCSW-88213"),
            supervisor=SUPERVISOR,
            plan_end_date=w.day(345),
            service_type="group",
            session_minutes=90,
            participants=[
                c.ParticipantIn(name="Casey Brooks", role="group member", client_id="MRN-20688"),
                c.ParticipantIn(name="R. Alvarez", role="group member"),
                c.ParticipantIn(name="T. Nguyen", role="group member"),
            ],
        )
    )
    w.do(
        c.AddDiagnosis(code="F10.20", description="Alcohol dependence, uncomplicated", primary=True)
    )
    w.do(
        c.AddProblem(
            statement="Drinks about 40 units a week; two missed workdays a month; AUDIT of 24.",
            diagnosis_codes=["F10.20"],
        ),
        "p1",
    )
    w.do(
        c.AddGoal(
            statement="Sustained reduction to low-risk drinking, with no missed workdays.",
            problem_ids=[w.ids["p1"]],
            client_words="Cut down so my job and marriage survive.",
        ),
        "g1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement=f"Reduce weekly drinking to 14 units or fewer by {w.day(150):%Y-%m-%d}, per drinking diary.",
            measure=_m(
                {"instrument": "units per week", "baseline": 40, "target": 14, "unit": "units"}
            ),
            target_date=w.day(150),
        ),
        "o1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Lower AUDIT from 24 to under 8.",
            measure=_m({"instrument": "AUDIT", "baseline": 24, "target": 7}),
            target_date=w.day(300),
        ),
        "o2",
    )
    w.do(
        c.AddIntervention(
            modality="Motivational interviewing",
            technique="Decisional balance and change talk",
            frequency="weekly group",
            objective_ids=[w.ids["o1"], w.ids["o2"]],
        )
    )
    w.do(
        c.AddIntervention(
            modality="Relapse prevention",
            technique="High-risk situation mapping and coping rehearsal",
            frequency="weekly group",
            objective_ids=[w.ids["o1"]],
        )
    )
    w.do(
        c.SetDischargeCriteria(
            criteria=["14 units a week or fewer for three months", "AUDIT under 8"]
        )
    )
    w.score("AUDIT", 24, 0, "o2")
    w.do(
        c.CaptureSignature(role="clinician", meaning="authored", signer_name="Dana Reyes")
    )  # no credentials: a finding
    w.sign_client("Casey Brooks")
    w.review(
        90,
        {"o1": "partially_met", "o2": "open"},
        "Down to 22 units a week. Two lapses at weekends; coping plan for Friday evenings added.",
    )
    w.on(120)
    wrong = w.score("AUDIT", 31, 120, "o2")
    w.on(121)
    w.do(
        c.VoidMeasurement(measurement_id=wrong),
        rationale="Entered in error: the score belonged to another group member.",
    )
    w.score("AUDIT", 18, 120, "o2")
    w.on(178)
    w.do(
        c.ReviseObjective(
            objective_id=w.ids["o1"],
            statement=f"Reduce weekly drinking to 14 units or fewer by {w.day(240):%Y-%m-%d}, per drinking diary.",
        ),
        rationale="Target date in the statement moved with the schedule.",
    )
    w.review(
        180,
        {"o1": "partially_met", "o2": "open"},
        "At 16 units a week. No missed workdays this quarter.",
    )
    w.on(240).score("AUDIT", 12, 240, "o2")
    w.review(
        270,
        {"o1": "met", "o2": "partially_met"},
        "Under 14 units for ten weeks. AUDIT 12. Planning step-down to fortnightly group.",
        "My wife noticed the difference.",
        # The next review is the renewal review on the plan's last day, as a clinician schedules
        # it when a quarterly review would fall after the plan has ended.
        next_review=345,
    )


def _draft(w: PlanWriter) -> None:
    """Avery Patel: an unsigned draft that reuses the anxiety template verbatim."""
    w.open(
        c.OpenPlan(
            client=_client("MRN-20741", "Avery Patel", date(2001, 8, 3)),
            clinician=_clinician(PRIYA, "PSY-30458"),
            supervisor=SUPERVISOR,
            plan_end_date=w.day(300),
            service_type="individual",
            session_minutes=53,
        )
    )
    w.do(c.AddDiagnosis(code="F41.0", description="Panic disorder", primary=True))
    w.do(c.AddDiagnosis(code="F40.10", description="Social phobia, unspecified"))
    w.do(
        c.AddProblem(
            statement="Panic attacks three times a week, mostly on public transport.",
            diagnosis_codes=["F41.0"],
        ),
        "p1",
    )
    w.do(
        c.AddGoal(
            statement="Travel by bus to college without a panic attack.", problem_ids=[w.ids["p1"]]
        ),
        "g1",
    )
    w.do(c.AddObjective(goal_id=w.ids["g1"], statement=TEMPLATED_OBJECTIVE), "o1")
    w.do(c.AddIntervention(modality="CBT", technique="Interoceptive exposure", frequency="weekly"))


def _social_anxiety(w: PlanWriter) -> None:
    """Noah Bennett, social anxiety: its review is due today, and neither the plan language nor
    the scores have moved since the last review, so completing it unchanged asks why."""
    w.open(
        c.OpenPlan(
            client=_client("MRN-20815", "Noah Bennett", date(1992, 7, 8)),
            clinician=_clinician(MARCUS, "LPC-51177"),
            supervisor=SUPERVISOR,
            plan_end_date=w.day(350),
            service_type="individual",
            session_minutes=53,
        )
    )
    w.do(c.AddDiagnosis(code="F40.10", description="Social phobia, unspecified", primary=True))
    w.do(
        c.AddProblem(
            statement="Since a promotion four months ago, avoids speaking in team meetings and has called in sick on the days of two client presentations; leaves social events within minutes. SPIN of 44 and GAD-7 of 13 at intake.",
            diagnosis_codes=["F40.10"],
        ),
        "p1",
    )
    w.do(
        c.AddGoal(
            statement="Take part in meetings, presentations and social life without avoidance deciding for him.",
            problem_ids=[w.ids["p1"]],
            client_words="I want to give my presentations instead of calling in sick.",
        ),
        "g1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Bring GAD-7 down from 13 to 7 or lower.",
            measure=_m({"instrument": "GAD-7", "baseline": 13, "target": 7}),
            target_date=w.day(270),
        ),
        "o1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Bring the Social Phobia Inventory score down from 44 to under 25.",
            # The SPIN is not in plantrail's catalogue: a custom measure that states its range.
            measure=_m(
                {
                    "instrument": "SPIN",
                    "baseline": 44,
                    "target": 24,
                    "scale_min": 0,
                    "scale_max": 68,
                }
            ),
            target_date=w.day(270),
        ),
        "o2",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Speak at least once in each weekly team meeting, logged in the exposure diary.",
            measure=_m(
                {
                    "instrument": "team meetings spoken in",
                    "baseline": 0,
                    "target": 4,
                    "direction": "increase",
                    "unit": "meetings/month",
                    "scale_min": 0,
                    "scale_max": 4,
                }
            ),
            target_date=w.day(120),
        ),
        "o3",
    )
    w.do(
        c.AddIntervention(
            modality="CBT",
            technique="Graded in-vivo exposure hierarchy, with video feedback on practice presentations",
            frequency="weekly, 53 minutes",
            objective_ids=[w.ids["o2"], w.ids["o3"]],
        )
    )
    w.do(
        c.AddIntervention(
            modality="CBT",
            technique="Cognitive restructuring of post-event rumination and dropping safety behaviours",
            frequency="weekly, within the same session",
            objective_ids=[w.ids["o1"], w.ids["o2"]],
        )
    )
    w.do(c.NoteStrength(text="Manager supports a graded return to presenting."))
    w.do(c.NoteBarrier(text="Hybrid work lets him stay home on meeting days."))
    w.do(c.SetTimeline(estimated_sessions=20, session_frequency="weekly"))
    w.do(
        c.SetDischargeCriteria(
            criteria=[
                "GAD-7 of 7 or lower on two consecutive administrations",
                "Gives a client presentation without calling in sick",
            ]
        )
    )
    w.score("GAD-7", 13, 0, "o1")
    w.score("SPIN", 44, 0, "o2")
    w.sign(MARCUS, "clinician", "authored")
    w.sign_client("Noah Bennett")
    w.do(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id=SAM.user_id, signer_name=SAM.name
        )
    )
    w.on(3)
    w.sign(SAM, "supervisor", "approved")
    w.on(30).score("GAD-7", 12, 30, "o1")
    w.score("SPIN", 40, 30, "o2")
    w.on(60).score("GAD-7", 10, 60, "o1")
    w.score("SPIN", 36, 60, "o2")
    w.on(86)
    w.do(
        c.ReviseObjective(
            objective_id=w.ids["o3"],
            statement="Speak in every weekly team meeting and give one five-minute update to the team a month, logged in the exposure diary.",
            target_date=w.day(180),
        ),
        rationale="Speaking up in meetings is routine now; a short update is the next step of the hierarchy.",
    )
    w.review(
        90,
        {"o1": "partially_met", "o2": "partially_met", "o3": "partially_met"},
        "GAD-7 down from 13 to 10 and SPIN from 44 to 36. Speaks in most team meetings; a short update to the team is the next step.",
        "Meetings are easier. Presenting still feels impossible.",
    )
    # The review changed statuses, so the plan is signed again.
    w.on(91)
    w.sign(MARCUS, "clinician", "authored")
    w.sign_client("Noah Bennett")
    w.do(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id=SAM.user_id, signer_name=SAM.name
        )
    )
    w.on(94)
    w.sign(SAM, "supervisor", "approved")
    # Since then nothing in the plan has changed and the scores have stalled; the next review
    # falls due today (90 days after the last one).
    w.on(120).score("GAD-7", 10, 120, "o1")
    w.score("SPIN", 36, 120, "o2")
    w.on(150).score("GAD-7", 10, 150, "o1")
    w.score("SPIN", 36, 150, "o2")
    w.on(176).score("GAD-7", 10, 176, "o1")


def _adolescent(w: PlanWriter) -> None:
    """Ella Novak, 15, depression: a minor's plan with her mother as guardian, measured with the
    PHQ-A and school attendance, signed by the clinician, Ella and her mother."""
    born = w.start - timedelta(days=15 * 365 + 140)
    w.open(
        c.OpenPlan(
            client=c.ClientIn(
                id="MRN-20862",
                name="Ella Novak",
                date_of_birth=born,
                guardian=c.GuardianIn(name="Petra Novak", relationship="mother", phone="555-0167"),
            ),
            clinician=_clinician(PRIYA, "PSY-30458"),
            supervisor=SUPERVISOR,
            plan_end_date=w.day(330),
            service_type="individual",
            session_minutes=53,
        )
    )
    w.do(
        c.AddDiagnosis(
            code="F32.1",
            description="Major depressive disorder, single episode, moderate",
            primary=True,
        )
    )
    w.do(
        c.AddProblem(
            statement="Low mood and irritability for four months, withdrawn from friends, grades falling; missed nine school days last month. PHQ-A of 16 at intake.",
            diagnosis_codes=["F32.1"],
        ),
        "p1",
    )
    w.do(
        c.AddGoal(
            statement="Mood lifts enough to go to school every day and see friends again.",
            problem_ids=[w.ids["p1"]],
            client_words="I just want to feel normal at school.",
        ),
        "g1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Lower PHQ-A from 16 to under 10.",
            measure=_m({"instrument": "PHQ-A", "baseline": 16, "target": 9}),
            target_date=w.day(240),
        ),
        "o1",
    )
    w.do(
        c.AddObjective(
            goal_id=w.ids["g1"],
            statement="Attend school at least four days a week, per the school's attendance record.",
            measure=_m(
                {
                    "instrument": "school days attended",
                    "baseline": 2,
                    "target": 4,
                    "direction": "increase",
                    "unit": "days/week",
                    "scale_min": 0,
                    "scale_max": 5,
                }
            ),
            target_date=w.day(150),
        ),
        "o2",
    )
    w.do(
        c.AddIntervention(
            modality="CBT for adolescents",
            technique="Behavioural activation and problem solving, with her mother joining every third session",
            frequency="weekly, 53 minutes",
            objective_ids=[w.ids["o1"], w.ids["o2"]],
        )
    )
    w.do(
        c.AddIntervention(
            modality="Measurement-based care",
            technique="PHQ-A and the C-SSRS screen every fourth session, reviewed with Ella",
            frequency="monthly",
            objective_ids=[w.ids["o1"]],
        )
    )
    w.do(c.NoteStrength(text="Plays in the school band and wants to keep playing."))
    w.do(c.NoteBarrier(text="Parents separated this year; alternates weeks between two homes."))
    w.do(c.SetTimeline(estimated_sessions=16, session_frequency="weekly"))
    w.do(
        c.SetDischargeCriteria(
            criteria=[
                "PHQ-A under 10 on two consecutive administrations",
                "Attends school four days a week for a month",
            ]
        )
    )
    w.score("PHQ-A", 16, 0, "o1")
    w.score("C-SSRS", 0, 0)
    w.score("school days attended", 2, 0, "o2")
    w.sign(PRIYA, "clinician", "authored")
    w.sign_client("Ella Novak")
    w.do(c.CaptureSignature(role="guardian", meaning="agreed", signer_name="Petra Novak"))
    w.on(28).score("PHQ-A", 14, 28, "o1")
    w.score("school days attended", 3, 28, "o2")
    w.on(56).score("PHQ-A", 12, 56, "o1")
    w.score("C-SSRS", 0, 56)
    w.score("school days attended", 4, 56, "o2")


@dataclass(frozen=True)
class DemoPlan:
    plan_id: UUID
    client: str
    client_id: str
    """The client's external id (MRN): CLI commands accept it in place of the plan id."""
    clinician: str
    story: str


_PLANS: list[tuple[Callable[[PlanWriter], None], Actor, int, str]] = [
    (_depression, DANA, 300, "Jordan Ellis"),
    (_anxiety, MARCUS, 295, "Morgan Lee"),
    (_ptsd, PRIYA, 290, "Riley Chen"),
    (_alcohol, DANA, 285, "Casey Brooks"),
    (_draft, PRIYA, 12, "Avery Patel"),
    (_social_anxiety, MARCUS, 180, "Noah Bennett"),
    (_adolescent, PRIYA, 60, "Ella Novak"),
]


def load_demo(service: PlanService, *, today: date | None = None) -> list[DemoPlan]:
    """Write the demo caseload through ``service``; returns the plans created."""
    now = service.clock()
    today = today or now.date()
    earliest = today - timedelta(days=max(days for *_, days, _ in _PLANS))
    clock = DemoClock(datetime.combine(earliest, time(8), tzinfo=UTC), now)
    real_clock = service.clock
    service.clock = clock
    created: list[DemoPlan] = []
    try:
        for write, clinician, days_ago, client in _PLANS:
            start = today - timedelta(days=days_ago)
            clock.now = datetime.combine(start, time(8), tzinfo=UTC)
            writer = PlanWriter(service, clock, clinician, start)
            writer.on(0)
            write(writer)
            assert writer.plan_id is not None
            story = " ".join((write.__doc__ or "").split())
            assert writer.mrn is not None
            created.append(DemoPlan(writer.plan_id, client, writer.mrn, clinician.name, story))
    finally:
        service.clock = real_clock
    return created
