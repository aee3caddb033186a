"""Helpers for the HTTP tests: a store with the app, the users of a small practice, and plans.

The practice: Sam Okafor (supervisor) supervises Dana Reyes (clinician); Marcus Hill is a
clinician Sam does not supervise; Alex Kim audits; an admin manages users. ``full_plan`` writes a
signed, supervisor-approved plan with an item of every kind, straight through the engine (fast),
as its clinician would.
"""

from __future__ import annotations

import itertools
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from fastapi import FastAPI

from plantrail.api.server.app import create_app
from plantrail.domain import commands as c
from plantrail.domain.service import PlanService
from plantrail.domain.values import Actor
from plantrail.projections.access.access_log import verify_access_log
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.policy import Principal
from plantrail.projections.assembly import open_service, recorder_of
from plantrail.projections.integrity.keys import create_keys
from tests.support import FakeClock

with warnings.catch_warnings():
    # Starlette 1.x asks for the "httpx2" package, which is not a dependency; httpx works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

USERS: dict[str, dict[str, Any]] = {
    "sam": {"user_id": "sam-okafor", "name": "Sam Okafor", "role": "supervisor",
            "credentials": "PhD", "license_number": "LP-20931"},
    "dana": {"user_id": "dana-reyes", "name": "Dana Reyes", "role": "clinician",
             "credentials": "LCSW", "license_number": "LC-4471", "supervisor_id": "sam-okafor"},
    "marcus": {"user_id": "marcus-hill", "name": "Marcus Hill", "role": "clinician",
               "credentials": "LPC"},
    "alex": {"user_id": "alex-kim", "name": "Alex Kim", "role": "auditor"},
    "admin": {"user_id": "admin", "name": "Practice Admin", "role": "admin"},
}  # fmt: skip

_commands = itertools.count(1)
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def actor(key: str) -> Actor:
    user = USERS[key]
    return Actor(
        user_id=user["user_id"], name=user["name"], role=user["role"],
        credentials=user.get("credentials"),
    )  # fmt: skip


@dataclass
class Practice:
    """A running app over a fresh store with the practice's users and their tokens."""

    service: PlanService
    app: FastAPI
    client: TestClient
    clock: FakeClock
    tokens: dict[str, str] = field(default_factory=dict)
    url: str = ""
    keys: Path | None = None

    def auth(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def request(self, who: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.auth(who), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def access_log(self, **filters: Any) -> list[dict[str, Any]]:
        return self.app.state.plantrail.access_log.entries(**filters)

    def verify_access_log(self) -> bool:
        recorder = recorder_of(self.service)
        assert recorder.chain_key is not None
        return verify_access_log(recorder.engine, recorder.chain_key).ok


@contextmanager
def practice(url: str, directory: Path, clock: FakeClock | None = None) -> Iterator[Practice]:
    keys = directory / "keys"
    create_keys(keys)
    clock = clock or FakeClock()
    service = open_service(url, keys, clock=clock)
    # Cheap Argon2 parameters keep fixtures fast; test_cli_users checks the real ones.
    accounts = Accounts(recorder_of(service).engine, hasher=FAST_HASHER)
    app = create_app(service, accounts=accounts)
    found = Practice(
        service, app, TestClient(app, raise_server_exceptions=False), clock, url=url, keys=keys
    )
    for key, spec in USERS.items():
        _, found.tokens[key] = accounts.add_user(**spec)
    try:
        with found.client:
            yield found
    finally:
        service.close()
        recorder_of(service).close()


def meta(who: str, **fields: Any) -> c.CommandMeta:
    fields.setdefault("command_id", f"t-{next(_commands)}-{uuid.uuid4().hex[:8]}")
    return c.CommandMeta(actor=actor(who), **fields)


def full_plan(
    service: PlanService, clinician: str = "dana", mrn: str | None = None
) -> dict[str, Any]:
    """A signed plan with an item of each kind (and, under Sam, his approval); returns the ids."""
    user = USERS[clinician]
    supervised = user.get("supervisor_id") == "sam-okafor"
    today = service.clock().date()
    opened = service.open_plan(
        c.OpenPlan(
            client=c.ClientIn(
                id=mrn or f"MRN-{uuid.uuid4().hex[:6]}", name="Alex Moreno",
                date_of_birth=date(1988, 5, 17),
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
        meta(clinician),
    )  # fmt: skip
    plan_id = UUID(opened.plan_id)

    def run(command: Any, who: str = clinician, **fields: Any) -> str | None:
        return service.execute(plan_id, command, meta(who, **fields)).item_id

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


def principal(key: str) -> Principal:
    user = USERS[key]
    return Principal(user_id=user["user_id"], name=user["name"], role=user["role"])


@contextmanager
def second_server(first: Practice) -> Iterator[Practice]:
    """Another app with its own ``PlanService`` on the same store (like a second worker
    process): same users, tokens and clock; its own in-process caches and locks."""
    assert first.keys is not None
    service = open_service(first.url, first.keys, clock=first.clock)
    app = create_app(service, accounts=Accounts(recorder_of(service).engine, hasher=FAST_HASHER))
    other = Practice(
        service, app, TestClient(app, raise_server_exceptions=False), first.clock,
        dict(first.tokens), first.url, first.keys,
    )  # fmt: skip
    try:
        with other.client:
            yield other
    finally:
        service.close()
        recorder_of(service).close()
