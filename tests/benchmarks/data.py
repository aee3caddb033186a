"""Benchmark data: realistic plans written with the real commands, and large caseloads.

``PlanScript`` writes one plan's history the way a clinician would over most of a year: an
intake (diagnoses, problems, goals, SMART objectives with measures, interventions, strengths,
barriers, timeline, discharge criteria, clinician, client and supervisor signatures), then
weekly scores (some entered late, a few voided), revisions with rationales, and a review every
few dozen entries; some reviews follow a revision (``updated``), the others change nothing
(``copied_forward``). The wording is varied per plan from small pools.

The script drives either runner:

* ``EngineRunner``: ``PlanService.open_plan`` / ``execute``, one transaction per command;
* ``DirectRunner``: the same commands through the same pure deciders and fold, with the
  resulting events written through the store's ``insert_events`` (chain hashes, index columns,
  inline read models) in chunks, with a snapshot wherever the engine would take one. What it
  stores is what the engine stores, minus the per-command idempotency records; it exists
  because writing a 10,000-event plan one fsync'd command at a time takes minutes.

``replicate_caseload`` makes large caseloads fast: a few template plans are written with the
real commands once, exported (``export_lines``), and copied under new plan ids, each copy with
its own client and its chain recomputed with ``chain_hash`` under the store's key, so that
``verify`` and ``import`` accept it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import orjson
from sqlalchemy import insert

from plantrail.domain import commands as c
from plantrail.domain import events as ev
from plantrail.domain.decide import Context, decide, open_plan
from plantrail.domain.integrity import GENESIS, chain_hash
from plantrail.domain.persistence import SnapshotRecord
from plantrail.domain.plan import PlanState, apply, fold
from plantrail.domain.service import PlanService
from plantrail.domain.service import _created_item as created_item
from plantrail.domain.values import Actor
from plantrail.projections.assembly import recorder_of
from plantrail.projections.store.engine import WRITE
from plantrail.projections.store.schema import events as events_table
from plantrail.projections.store.transfer import export_lines

START = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
SPAN = timedelta(days=320)
"""Every plan's history fits in a plan year (the deciders refuse a plan end beyond it)."""

CLINICIANS = [
    Actor(user_id="dana-reyes", name="Dana Reyes", role="clinician", credentials="LCSW"),
    Actor(user_id="marcus-hill", name="Marcus Hill", role="clinician", credentials="LPC"),
    Actor(user_id="priya-shah", name="Priya Shah", role="clinician", credentials="PsyD"),
]
SUPERVISOR = Actor(user_id="sam-okafor", name="Sam Okafor", role="supervisor", credentials="PhD")

FIRST = ["Jordan", "Morgan", "Riley", "Casey", "Avery", "Quinn", "Rowan", "Sasha", "Taylor"]
LAST = ["Ellis", "Lee", "Chen", "Brooks", "Patel", "Nguyen", "Okoro", "Silva", "Novak"]
DIAGNOSES = [
    ("F33.1", "Major depressive disorder, recurrent, moderate"),
    ("F41.1", "Generalized anxiety disorder"),
    ("F43.10", "Post-traumatic stress disorder, unspecified"),
    ("F10.20", "Alcohol dependence, uncomplicated"),
]
PROBLEMS = [
    "Depressed mood most days with withdrawal from friends; PHQ-9 of {n} at intake.",
    "Worry most of the day about work and health; sleep broken three nights a week.",
    "Nightmares and avoidance of driving since the collision; startles at loud noise.",
    "Drinks six or more units most evenings to fall asleep; two missed shifts last month.",
    "Panic attacks on public transport, about twice a week, leading to missed classes.",
]
GOALS = [
    "Mood lifts enough to return to work and see friends again.",
    "Worry no longer stops the client from doing what matters to them.",
    "Drives to work and back without avoidance or panic.",
    "Sleeps without alcohol and keeps every scheduled shift.",
]
OBJECTIVES = [
    ("Lower PHQ-9 from {b} to under {t}.", "PHQ-9", "decrease"),
    ("Lower GAD-7 from {b} to {t} or less.", "GAD-7", "decrease"),
    (
        "Complete {t} planned pleasant activities a week, logged in the diary.",
        "activity diary",
        "increase",
    ),
    ("Drive the fifteen-minute route to work {t} days a week.", "drives logged", "increase"),
]
INTERVENTIONS = [
    ("CBT", "Behavioural activation with weekly activity scheduling", "weekly, 53 minutes"),
    ("CBT", "Cognitive restructuring of catastrophic worry with thought records", "weekly"),
    ("Prolonged exposure", "Graded in-vivo exposure hierarchy for driving", "weekly, 90 minutes"),
    ("Measurement-based care", "PHQ-9 and GAD-7 reviewed with the client", "monthly"),
    ("Motivational interviewing", "Decisional balance on evening drinking", "fortnightly"),
]
STRENGTHS = [
    "Close relationship with a sister who checks in daily.",
    "Keeps appointments and completes homework between sessions.",
    "Employer supportive of a graded return.",
    "Enjoys walking and has a dog that needs two walks a day.",
]
BARRIERS = [
    "Night shifts disrupt sleep and routine.",
    "Long commute leaves little time in the evening.",
    "Partner drinks heavily at home.",
]
SUMMARIES = [
    "Scores improving steadily; activity targets met most weeks.",
    "Little change since the last review; continuing the current plan.",
    "Progress slowed after a setback at work; revisited the exposure hierarchy.",
    "Client reports feeling more like themselves; discussing spacing sessions.",
]


class Runner(Protocol):
    """What ``PlanScript`` needs: open a plan, run a command, and a clock it may move."""

    clock: SimulatedClock

    def open(self, command: c.OpenPlan, meta: c.CommandMeta) -> UUID: ...

    def run(self, command: c.PlanCommand, meta: c.CommandMeta) -> tuple[int, str | None]:
        """Run ``command``; returns the plan version after it and the id of an item it made."""
        ...

    def finish(self) -> None: ...


class SimulatedClock:
    """The service's clock while data is written: moves forward by a fixed step per command."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(minutes=30)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


class EngineRunner:
    """Every command through ``PlanService`` (one transaction, one command record each)."""

    def __init__(self, service: PlanService, clock: SimulatedClock) -> None:
        self.service = service
        self.clock = clock
        self.plan_id: UUID | None = None
        service.clock = clock

    def open(self, command: c.OpenPlan, meta: c.CommandMeta) -> UUID:
        self.plan_id = UUID(self.service.open_plan(command, meta).plan_id)
        return self.plan_id

    def run(self, command: c.PlanCommand, meta: c.CommandMeta) -> tuple[int, str | None]:
        assert self.plan_id is not None
        result = self.service.execute(self.plan_id, command, meta)
        return result.version, result.item_id

    def finish(self) -> None:
        return None


class DirectRunner:
    """The same commands through the pure deciders, stored in chunks (see module docstring)."""

    def __init__(self, service: PlanService, clock: SimulatedClock, chunk: int = 500) -> None:
        self.service = service
        self.recorder = recorder_of(service)
        self.clock = clock
        self.chunk = chunk
        self.plan_id: UUID | None = None
        self.state: PlanState | None = None
        self.pending: list[ev.PlanEvent] = []

    def _context(self, meta: c.CommandMeta) -> Context:
        assert self.plan_id is not None
        now = self.clock()
        if self.state is not None:
            now = max(now, self.state.last_recorded_at)
        return Context(self.plan_id, meta, now, self.service.late_entry_days)

    def open(self, command: c.OpenPlan, meta: c.CommandMeta) -> UUID:
        self.plan_id = uuid.uuid4()
        new = open_plan(command, self._context(meta))
        self.state = fold(new)
        self._add(new)
        return self.plan_id

    def run(self, command: c.PlanCommand, meta: c.CommandMeta) -> tuple[int, str | None]:
        assert self.state is not None
        new = decide(self.state, command, self._context(meta))
        for event in new:
            apply(self.state, event)
        self._add(new)
        return self.state.version, created_item(new)[0]

    def _add(self, new: list[ev.PlanEvent]) -> None:
        assert self.state is not None
        self.pending.extend(new)
        interval = self.service.snapshot_interval
        first = new[0].originator_version
        if any(v % interval == 0 for v in range(first, self.state.version + 1)):
            self._flush(snapshot=True)
        elif len(self.pending) >= self.chunk:
            self._flush(snapshot=False)

    def _flush(self, *, snapshot: bool) -> None:
        assert self.state is not None
        assert self.plan_id is not None
        if not self.pending:
            return
        mapper = self.service.mapper
        stored = [mapper.to_stored_event(e) for e in self.pending]
        record = (
            SnapshotRecord(
                self.plan_id, self.state.version, self.service.snapshot_bytes(self.state)
            )
            if snapshot
            else None
        )
        self.recorder.insert_events(stored, snapshot=record)
        self.pending = []

    def finish(self) -> None:
        self._flush(snapshot=False)


@dataclass
class PlanScript:
    """One plan's history (see module docstring); ``seed`` varies the wording and scores."""

    runner: Runner
    seed: int
    review_every: int = 40
    rng: random.Random = field(init=False)
    plan_id: UUID | None = None
    version: int = 0
    ids: dict[str, str] = field(default_factory=dict)
    measurements: list[str] = field(default_factory=list)
    reviews: list[int] = field(default_factory=list)
    """Plan version right after each completed review."""
    _n: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.actor = CLINICIANS[self.seed % len(CLINICIANS)]

    def meta(self, actor: Actor | None = None, **fields: Any) -> c.CommandMeta:
        self._n += 1
        return c.CommandMeta(
            actor=actor or self.actor,
            command_id=f"bench-{self.seed}-{self._n}-{uuid.uuid4().hex[:8]}",
            **fields,
        )

    def do(
        self, command: Any, name: str | None = None, actor: Actor | None = None, **meta: Any
    ) -> str | None:
        self.version, item = self.runner.run(command, self.meta(actor, **meta))
        if name is not None and item is not None:
            self.ids[name] = item
        return item

    @property
    def today(self) -> date:
        return self.runner.clock.now.date()

    # ------------------------------------------------------------------------- intake
    def intake(self) -> None:
        rng = self.rng
        client = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        start = self.runner.clock.now.date()
        self.plan_id = self.runner.open(
            c.OpenPlan(
                client=c.ClientIn(
                    id=f"MRN-{self.seed:07d}",
                    name=client,
                    date_of_birth=date(1960 + rng.randrange(40), 1 + rng.randrange(12), 14),
                ),
                clinician=c.ClinicianIn(
                    user_id=self.actor.user_id,
                    name=self.actor.name,
                    credentials=self.actor.credentials,
                    license_number=f"LIC-{self.seed % 977}",
                ),
                supervisor=c.ClinicianIn(
                    user_id=SUPERVISOR.user_id,
                    name=SUPERVISOR.name,
                    credentials=SUPERVISOR.credentials,
                    license_number="LP-20931",
                ),
                plan_end_date=start + timedelta(days=360),
            ),
            self.meta(effective_date=start),
        )
        self.version = 1
        codes = rng.sample(DIAGNOSES, 2)
        for index, (code, description) in enumerate(codes):
            self.do(c.AddDiagnosis(code=code, description=description, primary=index == 0))
        for p in range(2):
            self.do(
                c.AddProblem(
                    statement=PROBLEMS[(self.seed + p) % len(PROBLEMS)].format(n=14 + p),
                    diagnosis_codes=[codes[p][0]],
                ),
                f"p{p}",
            )
        for g in range(2):
            self.do(
                c.AddGoal(
                    statement=GOALS[(self.seed + g) % len(GOALS)],
                    problem_ids=[self.ids[f"p{g}"]],
                    client_words="I want to feel like myself again." if g == 0 else None,
                ),
                f"g{g}",
            )
        for o in range(4):
            text, instrument, direction = OBJECTIVES[o]
            baseline, target = (18, 9) if direction == "decrease" else (1, 4)
            self.do(
                c.AddObjective(
                    goal_id=self.ids[f"g{o // 2}"],
                    statement=text.format(b=baseline, t=target),
                    measure={
                        "instrument": instrument,
                        "baseline": baseline,
                        "target": target,
                        "direction": direction,
                    },
                    target_date=start + timedelta(days=200 + 30 * o),
                ),
                f"o{o}",
            )
        for i in range(3):
            modality, technique, frequency = INTERVENTIONS[(self.seed + i) % len(INTERVENTIONS)]
            self.do(
                c.AddIntervention(
                    modality=modality,
                    technique=technique,
                    frequency=frequency,
                    objective_ids=[self.ids[f"o{i}"], self.ids[f"o{i + 1}"]],
                ),
                f"i{i}",
            )
        for s in rng.sample(STRENGTHS, 2):
            self.do(c.NoteStrength(text=s))
        self.do(c.NoteBarrier(text=rng.choice(BARRIERS)))
        self.do(c.SetTimeline(estimated_sessions=24, session_frequency="weekly"))
        self.do(
            c.SetDischargeCriteria(
                criteria=["PHQ-9 under 10 on two consecutive scores", "Back at work for four weeks"]
            )
        )
        self.do(
            c.CaptureSignature(
                role="clinician",
                meaning="authored",
                signer_name=self.actor.name,
                signer_credentials=self.actor.credentials,
                signer_id=self.actor.user_id,
            )
        )
        self.do(c.CaptureSignature(role="client", meaning="agreed", signer_name=client))
        self.do(
            c.RequestSignature(
                role="supervisor",
                meaning="approved",
                signer_id=SUPERVISOR.user_id,
                signer_name=SUPERVISOR.name,
            )
        )
        self.do(
            c.CaptureSignature(
                role="supervisor",
                meaning="approved",
                signer_name=SUPERVISOR.name,
                signer_credentials=SUPERVISOR.credentials,
                signer_id=SUPERVISOR.user_id,
            ),
            actor=SUPERVISOR,
        )

    # ----------------------------------------------------------------------- follow-up
    def score(self, week: int) -> None:
        rng = self.rng
        late = week % 7 == 3
        on = self.today - timedelta(days=rng.randrange(9, 14)) if late else self.today
        on = max(on, START.date())
        if week % 2 == 0:
            value = max(0, min(27, 18 - week // 6 + rng.randrange(-2, 3)))
            command = c.RecordMeasurement(
                instrument="PHQ-9", score=value, administered_on=on, objective_id=self.ids["o0"]
            )
        else:
            value = max(0, min(21, 15 - week // 7 + rng.randrange(-2, 3)))
            command = c.RecordMeasurement(
                instrument="GAD-7", score=value, administered_on=on, objective_id=self.ids["o1"]
            )
        item = self.do(command, effective_date=on if late else None)
        assert item is not None
        self.measurements.append(item)

    def revise(self, n: int) -> None:
        target = 4 + n % 3
        self.do(
            c.ReviseObjective(
                objective_id=self.ids["o2"],
                statement=f"Complete {target} planned pleasant activities a week, with a friend.",
                measure={
                    "instrument": "activity diary",
                    "baseline": 1,
                    "target": target,
                    "direction": "increase",
                },
            ),
            rationale="Target met for three weeks running; raising it.",
        )

    def review(self, n: int) -> None:
        review_id = self.do(c.StartReview(reason="scheduled"))
        assert review_id is not None
        # Whatever the plan holds open must be assessed (objective ids are in self.ids).
        open_ids = [self.ids[f"o{o}"] for o in range(4)]
        self.do(
            c.CompleteReview(
                review_id=review_id,
                assessments=[
                    c.AssessmentIn(objective_id=o, status="partially_met") for o in open_ids
                ],
                progress_summary=SUMMARIES[(self.seed + n) % len(SUMMARIES)],
                client_input="Walking helps more than I expected." if n % 2 else None,
            )
        )
        self.reviews.append(self.version)

    def follow_up(self, events: int) -> None:
        """Weekly scores, revisions and reviews until the plan holds ``events`` events."""
        week = 0
        while self.version < events:
            week += 1
            remaining = events - self.version
            if week % self.review_every == 0 and remaining >= 3:
                review_no = week // self.review_every
                if review_no % 2 == 1:
                    self.revise(review_no)  # this review is "updated"; the next one copies
                self.review(review_no)
            elif week % 53 == 17 and self.measurements:
                self.do(
                    c.VoidMeasurement(measurement_id=self.measurements[-1]),
                    rationale="Entered against the wrong objective.",
                )
            elif week % 37 == 5:
                self.do(
                    c.RecordRationale(
                        text="Discussed the homework plan with the client.",
                        explains_version=self.version,
                        kind="comment",
                    )
                )
            else:
                self.score(week)


def write_plan(runner: Runner, events: int, seed: int, review_every: int = 40) -> PlanScript:
    """A plan of (about) ``events`` events written through ``runner``."""
    commands = max(events, 30)
    runner.clock.now = START + timedelta(minutes=seed % 600)
    runner.clock.step = SPAN / commands
    script = PlanScript(runner, seed, review_every)
    script.intake()
    script.follow_up(events)
    runner.finish()
    return script


# --------------------------------------------------------------------------- caseloads
@dataclass
class Template:
    lines: list[dict[str, Any]]
    client_id: str
    client_name: str


def templates(service: PlanService, count: int, events: int, first_seed: int = 1) -> list[Template]:
    """``count`` realistic plans of about ``events`` events, written with the real commands,
    read back as export records."""
    recorder = recorder_of(service)
    made: list[Template] = []
    for n in range(count):
        script = write_plan(
            DirectRunner(service, SimulatedClock()), events, first_seed + n, review_every=12
        )
        assert script.plan_id is not None
        lines = [orjson.loads(line) for line in export_lines(recorder, script.plan_id)][1:]
        opened = orjson.loads(lines[0]["state"])
        made.append(Template(lines, opened["client"]["id"], opened["client"]["name"]))
    return made


def replica_rows(template: Template, number: int, key: bytes) -> list[dict[str, Any]]:
    """The template's events as a new plan with its own id and client, re-chained."""
    plan_id = uuid.uuid4()
    client_id = f"MRN-{number:07d}"
    client_name = f"{FIRST[number % len(FIRST)]} {LAST[(number // len(FIRST)) % len(LAST)]}"
    previous = GENESIS
    rows = []
    for index, line in enumerate(template.lines):
        state = line["state"].encode()
        if index == 0:
            state = state.replace(template.client_id.encode(), client_id.encode()).replace(
                template.client_name.encode(), client_name.encode()
            )
        digest = chain_hash(key, previous, plan_id, line["version"], line["topic"], state)
        previous = digest
        rows.append(
            {
                "originator_id": plan_id,
                "originator_version": line["version"],
                "topic": line["topic"],
                "state": state,
                "recorded_at_us": line["recorded_at_us"],
                "effective_date": date.fromisoformat(line["effective_date"]),
                "command_id": line["command_id"],
                "chain_hash": digest.hex(),
            }
        )
    return rows


def replicate_caseload(
    service: PlanService,
    made: list[Template],
    plans: int,
    *,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add ``plans`` plans copied from ``made`` to the store; returns the events written."""
    recorder = recorder_of(service)
    key = recorder.chain_key
    assert key is not None
    written = 0
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal written, pending
        with recorder.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(insert(events_table), pending)
        written += len(pending)
        if progress is not None:
            progress(len(pending))
        pending = []

    for number in range(plans):
        pending.extend(replica_rows(made[number % len(made)], number, key))
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return written
