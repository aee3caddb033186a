"""Which plan a user means on the command line: its id, an unambiguous start of the id, or the
client's external id (MRN).

A newcomer reads plan ids off a table or a demo listing; typing 36 characters is where they
give up. Git's rule for commit ids applies: any prefix that names exactly one plan will do, and
an ambiguous one is refused with the candidates listed, never guessed.
"""

from __future__ import annotations

import re
from uuid import UUID

from sqlalchemy import select

from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.service import PlanService
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.gateway import PlanGateway
from plantrail.projections.assembly import recorder_of
from plantrail.projections.caseload import caseload
from plantrail.projections.store.failures import translated

MIN_PREFIX = 4
"""Shorter prefixes match too much of any real caseload to be worth trying."""

_ID_PREFIX = re.compile(r"[0-9a-f][0-9a-f-]*")


def _listed(plans: list[tuple[UUID, str]]) -> str:
    shown = ", ".join(f"{plan_id} ({what})" for plan_id, what in plans[:5])
    return shown + (f" and {len(plans) - 5} more" if len(plans) > 5 else "")


def _by_prefix(gateway: PlanGateway, prefix: str) -> list[UUID]:
    return [p for p in recorder_of(gateway.service).plan_ids() if str(p).startswith(prefix)]


def _by_client(gateway: PlanGateway, client_id: str) -> list[tuple[UUID, str]]:
    """Plans of the client with this external id: from the caseload rows, then from the
    opening event of any plan that has no rows yet (the client never changes after it)."""
    recorder = recorder_of(gateway.service)
    with translated("find the client's plans"), recorder.engine.connect() as conn:
        rows = conn.execute(
            select(caseload.c.plan_id, caseload.c.status, caseload.c.effective_date).where(
                caseload.c.client_id == client_id
            )
        ).all()
        known = {UUID(str(p)) for p in conn.execute(select(caseload.c.plan_id)).scalars()}
    found = [
        (UUID(str(r.plan_id)), f"{r.status}, from {r.effective_date.isoformat()}") for r in rows
    ]
    for plan_id in recorder.plan_ids():
        if plan_id not in known:
            header = gateway.header(plan_id)
            if header is not None and header.client_id == client_id:
                opened = header.opened_on.isoformat() if header.opened_on else "?"
                found.append((plan_id, f"opened {opened}"))
    return found


def plans_of_client(gateway: PlanGateway, client_id: str) -> list[UUID]:
    """Every plan of the client with this MRN (``plantrail audit --client``)."""
    return [plan_id for plan_id, _ in _by_client(gateway, client_id.strip())]


def resolve_plan(gateway: PlanGateway, value: str) -> UUID:
    """The one plan ``value`` names: a plan id, a start of one, or a client's MRN. Which plan a
    name means is no read of it: reach is checked when the plan is read (``PlanGateway``)."""
    text = value.strip()
    try:
        return UUID(text)
    except ValueError:
        pass
    if not text:
        raise InvalidInput.on("plan", "give a plan id, the start of one, or a client's MRN")
    prefix = text.lower()
    if len(prefix) >= MIN_PREFIX and _ID_PREFIX.fullmatch(prefix):
        matches = _by_prefix(gateway, prefix)
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise InvalidInput.on(
                "plan",
                f"{text!r} starts {len(matches)} plan ids: "
                f"{_listed([(m, 'plan') for m in matches])}; give more of the id",
            )
    plans = _by_client(gateway, text)
    if len(plans) == 1:
        return plans[0][0]
    if plans:
        raise InvalidInput.on(
            "plan",
            f"client {text!r} has {len(plans)} plans: {_listed(plans)}; give the plan id",
        )
    if len(prefix) < MIN_PREFIX and _ID_PREFIX.fullmatch(prefix):
        # Not a client's MRN, and too short a start of an id to be tried: say so, rather than
        # "no match", which reads as if the plan did not exist.
        raise InvalidInput.on(
            "plan",
            f"{text!r} is too short a start of a plan id: give at least {MIN_PREFIX} characters",
        )
    raise NotFound(f"no plan id, start of a plan id or client MRN matches {text!r}")


def plan_names(service: PlanService) -> PlanGateway:
    """A gateway only to name plans with, for commands on the store itself (``verify``, a JSON
    Lines export) that read no plan for a person."""
    return PlanGateway(service, Accounts(recorder_of(service).engine))
