"""Test helpers shared by every category: actors, clocks, plan builders, databases."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plantrail.domain import commands as c
from plantrail.domain.service import CommandResult, PlanService
from plantrail.domain.values import Actor
from plantrail.projections.store.factory import open_service

PG_ENV = "PLANTRAIL_TEST_DATABASE_URL"

CLINICIAN = Actor(user_id="dana", name="Dana Reyes", role="clinician", credentials="LCSW")
SUPERVISOR = Actor(user_id="sam", name="Sam Okafor", role="supervisor", credentials="PhD")

_ids = itertools.count(1)


class FakeClock:
    """A server clock tests can move; always timezone-aware UTC."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


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


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test session, dropped afterwards."""
    base = make_url(os.environ[PG_ENV])
    name = f"plantrail_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_schema_url(database_url: str) -> str:
    """A new schema inside the session database; the URL puts it first on the search path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'plantrail.db'}"


@contextmanager
def running_service(store_url: str, key_dir: Path, **options: Any) -> Iterator[PlanService]:
    """A ``PlanService`` on ``store_url``, closed with its connections afterwards."""
    service = open_service(store_url, key_dir, **options)
    try:
        yield service
    finally:
        service.close()
        service.recorder.close()  # type: ignore[attr-defined]
