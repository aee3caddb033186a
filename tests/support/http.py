"""Helpers for the HTTP tests: a store with the app and the users of a small practice.

The practice: Sam Okafor (supervisor) supervises Dana Reyes (clinician); Marcus Hill is a
clinician Sam does not supervise; Alex Kim audits; an admin manages users.
``tests.support.plans.full_plan`` writes a signed, supervisor-approved plan with an item of every
kind, straight through the engine (fast), as its clinician would.
"""

from __future__ import annotations

import itertools
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from tests.support.clock import FakeClock

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
