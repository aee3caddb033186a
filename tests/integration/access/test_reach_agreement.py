"""The reach rule has one definition (``policy.reach_of``) and two evaluations: in Python for one
plan (``Reach.covers``, which the gateway applies) and in SQL for the caseload read models
(``Reach.clause``). Over every role and every relationship a caller can have to a plan, both
must name exactly the same plans, on both stores."""

from __future__ import annotations

import itertools
from datetime import date
from uuid import UUID

from plantrail.domain import commands as c
from plantrail.domain.service import PlanService
from plantrail.projections.access.policy import Principal, can_read_plan, reach_of
from plantrail.projections.assembly import recorder_of
from plantrail.projections.caseload import catch_up, query_caseload
from tests.support.plans import meta

CLINICIANS = ("dana", "lee")
SUPERVISORS = (None, "sam", "kim")


def _open(service: PlanService, n: int, clinician: str, supervisor: str | None) -> UUID:
    command = c.OpenPlan(
        client=c.ClientIn(id=f"MRN-{n:04d}", name=f"Client {n}", date_of_birth=date(1990, 1, 1)),
        clinician=c.ClinicianIn(user_id=clinician, name=clinician.title(), credentials="LCSW"),
        supervisor=(
            c.ClinicianIn(user_id=supervisor, name=supervisor.title(), credentials="PhD")
            if supervisor
            else None
        ),
        plan_end_date=date(2027, 2, 1),
    )
    return UUID(service.open_plan(command, meta()).plan_id)


def _callers(plans: list[UUID]) -> list[Principal]:
    """Every role, in every relationship to the plans: a clinician of some plans and of none; a
    supervisor by supervising the clinician, by being named on the plan, both and neither; a
    client of each plan, and a client whose link opens no plan; auditor, admin, operator."""
    callers = [
        Principal(user_id=user, name=user, role="clinician") for user in (*CLINICIANS, "nobody")
    ]
    for user in ("sam", "kim", "pat"):
        for supervisees in ((), ("dana",), ("lee",), CLINICIANS):
            callers.append(
                Principal(
                    user_id=user, name=user, role="supervisor", supervisees=frozenset(supervisees)
                )
            )
    callers += [
        Principal(user_id=f"client:{plan}", name="client", role="client", plan_id=plan)
        for plan in plans
    ]
    callers.append(Principal(user_id="client:none", name="client", role="client"))
    callers += [
        Principal(user_id="audrey", name="Audrey", role="auditor"),
        Principal(user_id="ada", name="Ada", role="admin"),
        Principal(user_id="cli:root", name="root", role="operator"),
    ]
    return callers


def test_python_and_sql_reach_agree_for_every_role_and_relationship(
    service: PlanService,
) -> None:
    plans = {
        _open(service, n, clinician, supervisor): (clinician, supervisor)
        for n, (clinician, supervisor) in enumerate(itertools.product(CLINICIANS, SUPERVISORS))
    }
    recorder = recorder_of(service)
    catch_up(service, recorder)
    callers = _callers(list(plans))
    seen_some = seen_none = 0
    for caller in callers:
        in_python = {
            plan_id
            for plan_id, (clinician, supervisor) in plans.items()
            if can_read_plan(caller, clinician, supervisor, plan_id)
        }
        in_sql = {UUID(row["plan_id"]) for row in query_caseload(recorder, reach_of(caller))}
        assert in_sql == in_python, (caller.role, caller.user_id, sorted(caller.supervisees))
        seen_some += bool(in_python) and len(in_python) < len(plans)
        seen_none += not in_python
    # The cases exercise the rule: some callers see part of the caseload, some see nothing.
    assert seen_some >= 10
    assert seen_none >= 3
