"""Who a command acts as, and the one path it reads and writes a plan by.

Every command that reads or changes a plan goes through ``PlanGateway``, the path the HTTP API
and the pages take, as a named principal: with ``--as USER``, that user with exactly their
reach; without it, the *operator* (whoever runs the command on the store itself: they hold the
database and its keys, so the reach rule cannot stop them, and the access log names them by
their login). Either way each command is one access-log record, as each HTTP request is, with
the status the API would have answered (docs/api.md, "Errors").
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from uuid import UUID, uuid4

import typer

from plantrail.api.cli.context import service_for
from plantrail.api.cli.plan_ref import resolve_plan
from plantrail.api.routing.problems import STATUS
from plantrail.domain.errors import InvalidInput
from plantrail.domain.service import PlanService
from plantrail.projections.access.access_log import AccessEntry, AccessLog
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.gateway import PlanGateway
from plantrail.projections.access.policy import Principal
from plantrail.projections.assembly import recorder_of
from plantrail.projections.store.recorder import to_micros

AsUser = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act as this user, with their reach (default: the operator, who reaches every "
        "plan). Either way the command is in the access log.",
        show_default=False,
    ),
]


def operator() -> Principal:
    """Whoever runs the command on the store itself, named by their login."""
    login = getpass.getuser()
    return Principal(user_id=f"cli:{login}", name=login, role="operator")


@dataclass(frozen=True)
class Acting:
    """A command's store, the gateway, the caller and the command's access-log entry."""

    service: PlanService
    accounts: Accounts
    gateway: PlanGateway
    caller: Principal
    entry: AccessEntry
    more: list[AccessEntry] = field(default_factory=list)

    def resolve(self, value: str) -> UUID:
        """The plan ``value`` names (``plan_ref.resolve_plan``), noted on the command's entry:
        a command on a named plan is in the access log even when it is refused before the plan
        is read, as an HTTP request on a plan's address is."""
        plan_id = resolve_plan(self.gateway, value)
        self.entry.plan_id = str(plan_id)
        return plan_id

    def another_entry(self) -> AccessEntry:
        """One more access-log record for this command, for a command that reads many plans
        and must account for each (``export --fhir`` discloses every plan it writes)."""
        entry = AccessEntry(
            method="CLI", route=self.entry.route, user_id=self.caller.user_id, role=self.caller.role
        )
        self.more.append(entry)
        return entry


def status_of(error: Exception) -> int:
    """The status the HTTP API answers for ``error`` (the nearest class in the MRO wins)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls][0]
    return 500


@contextmanager
def acting(db: str | None, keys: Path | None, user: str | None, route: str) -> Iterator[Acting]:
    """The command's ``Acting``; its access-log entry is appended however the command ends,
    once it has named a plan (a command that fails before it reads anything leaves no row)."""
    service = service_for(db, keys)
    recorder = recorder_of(service)
    accounts = Accounts(recorder.engine)
    accounts.create_tables()  # a store made by ``plantrail demo`` may have no users yet
    accounts.clients.clock_us = lambda: to_micros(service.clock())
    if user is None:
        caller = operator()
    else:
        found = accounts.principal(user)
        if found is None:
            raise InvalidInput.on("as", f"no user {user!r} (see plantrail users list)")
        caller = found
    entry = AccessEntry(
        method="CLI",
        route=f"plantrail {route}",
        user_id=caller.user_id,
        role=caller.role,
        pending_id=uuid4().hex,  # a write stores its row with its events
    )
    log = AccessLog(recorder.engine, recorder.chain_key, service.clock)
    log.create_tables()
    act = Acting(service, accounts, PlanGateway(service, accounts), caller, entry)
    status, outcome = 200, "ok"
    try:
        yield act
    except Exception as error:
        status = status_of(error)
        outcome = "rejected" if status < 500 else "error"
        raise
    finally:
        try:
            everyone = (entry, *act.more)
            named = [e for e in everyone if e.plan_id is not None or e.action != "request"]
            for each in named:
                each.status = each.status or status
                each.outcome = each.outcome or outcome
            if named:
                log.create_tables()  # a store made by ``plantrail demo`` served no request yet
                for each in named:
                    log.append(each)
        finally:
            log.close()
