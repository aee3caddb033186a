"""Who may do what: the caller (``Principal``), the roles, and the one rule of reach.

The reach rule has one definition, ``reach_of``: the plans a caller may see, as a ``Reach``.
It is evaluated two ways from that one value, in Python for one plan (``Reach.covers``, which
the gateway applies before anything of a plan is read) and in SQL for the caseload read models
(``Reach.clause``, applied in the query so that plans outside it are never read). A test runs
both over every role and relationship and proves they agree
(``tests/integration/access/test_reach_agreement.py``).

Write rules that depend only on the role and the command (``command_denial``) never depend on a
plan, so a refusal reveals nothing about which plans exist.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from uuid import UUID

from sqlalchemy import false, or_

from plantrail.domain import commands as cmd
from plantrail.domain.values import Actor

StaffRole = Literal["clinician", "supervisor", "auditor", "admin"]
ROLES: tuple[str, ...] = get_args(StaffRole)
"""The roles a user of the practice has (``plantrail users add --role``)."""
Role = Literal["clinician", "supervisor", "auditor", "admin", "client", "operator"]
"""Every caller's role: a ``client`` is no user of the practice but the holder of a client access
link to their own plan (``client_access.ClientAccess``); the ``operator`` is whoever runs a
command on the store itself without ``--as`` (``plantrail.api.cli.acting``)."""
BREAK_GLASS_ROLES = frozenset({"clinician", "supervisor"})
"""Who may read a plan outside their reach in an emergency, giving a reason (break-glass)."""
CLINICAL_READERS = frozenset({"clinician", "supervisor", "auditor"})
"""Roles that read plans at all (each within its own reach)."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who they are and whose plans they supervise."""

    user_id: str
    name: str
    role: Role
    credentials: str | None = None
    license_number: str | None = None
    supervisees: frozenset[str] = field(default_factory=frozenset)
    plan_id: UUID | None = None
    """A client's: the one plan their client access link opens."""

    def actor(self) -> Actor:
        """The ``Actor`` stamped on every event this caller causes."""
        return Actor(
            user_id=self.user_id, name=self.name, role=self.role, credentials=self.credentials
        )


# ------------------------------------------------------------------------------ reach
@dataclass(frozen=True)
class Reach:
    """The plans a caller may see: every plan, or those of some clinicians, those naming a
    supervisor, or one plan (a client's). Nothing when every part is empty."""

    all_plans: bool = False
    clinician_ids: Collection[str] = ()
    supervisor_id: str | None = None
    plan_id: UUID | None = None

    def covers(self, clinician_id: str, supervisor_id: str | None, plan_id: UUID | None) -> bool:
        """Whether the plan with this clinician, named supervisor and id is within reach."""
        if self.all_plans:
            return True
        return (
            clinician_id in self.clinician_ids
            or (self.supervisor_id is not None and supervisor_id == self.supervisor_id)
            or (self.plan_id is not None and plan_id == self.plan_id)
        )

    def clause(self, clinician_id: Any, supervisor_id: Any, plan_id: Any) -> Any:
        """The same rule as ``covers`` as an SQL condition on the three given columns (None for
        every plan), for queries that must not read plans outside it."""
        if self.all_plans:
            return None
        clauses: list[Any] = []
        if self.clinician_ids:
            clauses.append(clinician_id.in_(sorted(self.clinician_ids)))
        if self.supervisor_id is not None:
            clauses.append(supervisor_id == self.supervisor_id)
        if self.plan_id is not None:
            clauses.append(plan_id == self.plan_id)
        return or_(*clauses) if clauses else false()


def reach_of(caller: Principal) -> Reach:
    """The one definition of which plans ``caller`` may see.

    clinician: the plans they are the clinician of. supervisor: their supervisees' plans and the
    plans that name them as supervisor. auditor and the command line's operator: every plan.
    client: the one plan their access link opens. admin: none."""
    if caller.role == "auditor" or caller.role == "operator":
        return Reach(all_plans=True)
    if caller.role == "clinician":
        return Reach(clinician_ids=(caller.user_id,))
    if caller.role == "supervisor":
        return Reach(clinician_ids=tuple(sorted(caller.supervisees)), supervisor_id=caller.user_id)
    if caller.role == "client" and caller.plan_id is not None:
        return Reach(plan_id=caller.plan_id)
    return Reach()


def can_read_plan(
    caller: Principal, clinician_id: str, supervisor_id: str | None, plan_id: UUID | None = None
) -> bool:
    """Whether ``caller`` may see the plan ``plan_id`` whose clinician and named supervisor are
    given (``reach_of``)."""
    return reach_of(caller).covers(clinician_id, supervisor_id, plan_id)


def can_write_plan(caller: Principal, clinician_id: str) -> bool:
    """Whether ``caller`` acts as the plan's own clinician (every write is open to them)."""
    return caller.role == "clinician" and clinician_id == caller.user_id


SUPERVISOR_NOTES = frozenset({"rationale_request", "comment"})


CLIENT_UNSET_FIELDS = ("entry_kind", "rationale", "effective_date")
"""Envelope fields a client's own write may not carry: the entry's label, the practice's reason
and the clinical date are the record's, set by the practice (docs/api.md, Roles and reach)."""


def envelope_denial(caller: Principal, envelope: Mapping[str, Any]) -> tuple[str, str] | None:
    """The field ``caller``'s role may not set in a write's envelope and why, or None."""
    if caller.role != "client":
        return None
    for name in CLIENT_UNSET_FIELDS:
        if envelope.get(name) is not None:
            return name, "is set by the practice, not by a client"
    return None


def command_denial(caller: Principal, command: cmd.Command) -> str | None:
    """Why ``caller``'s role may not make ``command`` on any plan, or None when it may.

    Depends on the role and the command only (never on a plan), so a refusal reveals nothing
    about which plans exist."""
    if caller.role == "clinician":
        if isinstance(command, cmd.CaptureSignature) and command.role == "supervisor":
            return "a clinician cannot sign in the supervisor's role"
        return None
    if caller.role == "supervisor":
        if isinstance(command, cmd.CaptureSignature):
            if (command.role, command.meaning) != ("supervisor", "approved"):
                return "a supervisor signs in the role 'supervisor' with the meaning 'approved'"
            return None
        if isinstance(command, cmd.RecordRationale):
            if command.kind not in SUPERVISOR_NOTES:
                return (
                    "a supervisor records rationale requests and comments "
                    "(kind 'rationale_request' or 'comment'), not rationales"
                )
            return None
        if isinstance(command, cmd.RevokeSignature):
            return None
        return "a supervisor reads, co-signs and comments on plans but does not change them"
    if caller.role == "auditor":
        return "an auditor reads plans and writes nothing"
    if caller.role == "client":
        if isinstance(command, cmd.CaptureSignature) and (command.role, command.meaning) == (
            "client",
            "agreed",
        ):
            return None
        if isinstance(command, cmd.RequestAmendment | cmd.FileDisagreementStatement):
            return None  # their rights under 45 CFR 164.526
        return (
            "a client signs their plan (role 'client', meaning 'agreed'), asks for an amendment "
            "and files a statement of disagreement; nothing else"
        )
    if caller.role == "operator":
        return "the command line's operator reads plans; a change names its user with --as"
    return "an admin manages users and does not read or change plans"


def signature_revoke_denial(
    caller: Principal, clinician_id: str, signer_id: str | None
) -> str | None:
    """Who may revoke a signature: its own signer, or the plan's clinician for a signature
    given by someone who is not a user (the client or a guardian, captured in session)."""
    if signer_id is not None and signer_id == caller.user_id:
        return None
    if signer_id is None and can_write_plan(caller, clinician_id):
        return None
    return "only the signer may revoke this signature"
