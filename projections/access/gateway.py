"""The data path between HTTP and the engine: every read and write names the caller and the plan.

Routes never hold the ``PlanService``; they ask ``PlanGateway``, whose every method takes the
authenticated ``Principal`` and the plan id and decides, before anything is read, whether the
plan is within the caller's reach (``accounts.can_read_plan``). A plan outside it raises exactly
the ``PlanNotFound`` an unknown plan raises, so the two answers are byte-identical and no caller
learns that a plan exists. Write rules that depend only on the role and the command
(``accounts.command_denial``) are checked *before* the plan is looked up, so a ``403`` does not
reveal a plan either. Each decision is noted on the request's access-log entry (``denied`` for a
plan that exists but is out of reach, although the caller sees ``404``).

The ``Idempotency-Key`` header becomes the engine's command id, scoped to the caller
(``http:<user>:<key>``): one user's key can never replay another user's answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from plantrail.domain import commands as cmd
from plantrail.domain.decide import Context, decide
from plantrail.domain.errors import (
    AccessDenied,
    FieldProblem,
    InvalidInput,
    NotFound,
    PlanNotFound,
    PlantrailError,
    RuleViolation,
    StaleVersion,
)
from plantrail.domain.events import PlanEvent, PlanOpened
from plantrail.domain.parsing import parse_command, parse_meta
from plantrail.domain.plan import PlanState
from plantrail.domain.service import CommandResult, PlanService
from plantrail.projections.access.access_log import AccessEntry, pending_write
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.caseload_views import CaseloadFilters, CaseloadViews
from plantrail.projections.access.policy import (
    BREAK_GLASS_ROLES,
    Principal,
    can_read_plan,
    can_write_plan,
    command_denial,
    envelope_denial,
    signature_revoke_denial,
)
from plantrail.projections.assembly import recorder_of
from plantrail.projections.continuation import judge
from plantrail.projections.profile import RuleProfile

MAX_EXPECTED_VERSION = 2**31
STALE_RETRIES = 3
"""A continuation check without If-Match is judged again this many times when another write
lands between the check and the write."""
T = TypeVar("T")


@dataclass(frozen=True)
class PlanHeader:
    """Who a plan belongs to; fixed when the plan is opened, so it is safe to cache."""

    plan_id: UUID
    clinician_id: str
    supervisor_id: str | None
    client_id: str | None = None
    """The client's practice id (MRN), which an audit of dates of service names."""
    client_name: str | None = None
    opened_on: date | None = None
    """The plan's effective date as opened."""


class PlanGateway:
    """Caller-checked access to plans (see module docstring)."""

    def __init__(
        self,
        service: PlanService,
        accounts: Accounts,
        *,
        cache_size: int = 10_000,
        profile: RuleProfile | None = None,
    ) -> None:
        self.service = service
        self.accounts = accounts
        self.profile = profile if profile is not None else RuleProfile()
        """The practice's rule profile: the copy-forward detector a continuation is judged by."""
        self._headers: dict[UUID, PlanHeader] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._caseload = CaseloadViews(service)

    # --------------------------------------------------------------------------- reach
    def header(self, plan_id: UUID) -> PlanHeader | None:
        with self._lock:
            cached = self._headers.get(plan_id)
        if cached is not None:
            return cached
        opening = self.service.events_of(plan_id, lte=1)
        if not opening or not isinstance(opening[0], PlanOpened):
            return None
        event = opening[0]
        found = PlanHeader(
            plan_id,
            event.clinician.user_id,
            event.supervisor.user_id if event.supervisor else None,
            event.client.id,
            event.client.name,
            event.effective_date,
        )
        with self._lock:
            if len(self._headers) >= self._cache_size:
                self._headers.clear()
            self._headers[plan_id] = found
        return found

    def reach(
        self,
        caller: Principal,
        plan_id: UUID,
        entry: AccessEntry,
        action: str,
        *,
        emergency: bool = False,
    ) -> PlanHeader:
        """The plan's header if ``caller`` may see it; else the unknown plan's ``PlanNotFound``.

        ``emergency``: a read, for which a clinician or supervisor who gave a break-glass
        reason (``entry.break_glass_requested``) reaches a plan outside their caseload. The
        reason is then written on the access-log row (``entry.break_glass_reason``); inside the
        caller's reach it is not an emergency read and nothing is noted."""

        def allowed(found: PlanHeader) -> bool:
            if can_read_plan(caller, found.clinician_id, found.supervisor_id, found.plan_id):
                return True
            reason = entry.break_glass_requested
            if emergency and reason and caller.role in BREAK_GLASS_ROLES:
                entry.break_glass_reason = reason
                return True
            return False

        return self._header_if(plan_id, entry, action, allowed)

    def _header_if(
        self,
        plan_id: UUID,
        entry: AccessEntry,
        action: str,
        allowed: Callable[[PlanHeader], bool],
    ) -> PlanHeader:
        """The plan's header when ``allowed``; a plan that is not, or does not exist, is the
        same ``PlanNotFound``, noted on ``entry`` as denied or not found."""
        entry.plan_id = str(plan_id)
        entry.action = action
        found = self.header(plan_id)
        if found is None:
            entry.outcome = "not_found"
            raise PlanNotFound(plan_id)
        if not allowed(found):
            entry.outcome = "denied"
            raise PlanNotFound(plan_id)
        return found

    def own_plan(
        self, caller: Principal, plan_id: UUID, entry: AccessEntry, action: str
    ) -> PlanHeader:
        """The plan's header when ``caller`` is its clinician (who alone manages the client's
        access links); any other plan is the unknown plan's ``PlanNotFound``."""
        return self._header_if(
            plan_id, entry, action, lambda found: can_write_plan(caller, found.clinician_id)
        )

    def disclosure_reach(self, caller: Principal, plan_id: UUID, entry: AccessEntry) -> PlanHeader:
        """The plan's header when ``caller`` may read who accessed it: whoever may audit it
        (``may_audit``: its readers, auditors, and the admin as privacy officer), and its
        client."""
        return self._header_if(
            plan_id, entry, "view:disclosures", lambda found: self.may_audit(caller, found)
        )

    def visible_plan_ids(self, caller: Principal) -> list[UUID]:
        """Every plan ``caller`` may see, oldest first."""
        out = []
        for plan_id in recorder_of(self.service).plan_ids():
            found = self.header(plan_id)
            if found is not None and can_read_plan(
                caller, found.clinician_id, found.supervisor_id, plan_id
            ):
                out.append(plan_id)
        return out

    # ---------------------------------------------------------------- caseload reads
    def caseload(self, caller: Principal, filters: CaseloadFilters) -> list[dict[str, Any]]:
        """The caseload list: one row for each plan within ``caller``'s reach."""
        return self._caseload.caseload(caller, filters)

    def caseload_findings(
        self, caller: Principal, clinician_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The findings of every plan within ``caller``'s reach (of one clinician, if given)."""
        return self._caseload.findings(caller, clinician_id)

    def copy_forward_report(
        self, caller: Principal, clinician_id: str | None = None
    ) -> dict[str, Any]:
        """Copied-forward reviews and objectives reused across plans within ``caller``'s reach
        (of one clinician, if given)."""
        return self._caseload.copy_forward(caller, clinician_id)

    # --------------------------------------------------------------------------- reads
    def state(
        self,
        caller: Principal,
        plan_id: UUID,
        entry: AccessEntry,
        *,
        view: str = "plan",
        as_of: datetime | None = None,
        effective_on: date | None = None,
        version: int | None = None,
    ) -> PlanState:
        """The plan now, at a version, as of a recorded instant and/or on a clinical date."""
        self.reach(caller, plan_id, entry, f"view:{view}", emergency=True)
        return self.service.load_at(
            plan_id, as_of=as_of, effective_on=effective_on, version=version
        )

    def current(
        self,
        caller: Principal,
        plan_id: UUID,
        entry: AccessEntry,
        reader: Callable[[PlanState], T],
        *,
        view: str = "plan",
    ) -> T:
        """``reader`` run on the plan's latest state: the service's in-process state, caught up
        with the store by one indexed query (``PlanService.read_current``) instead of a load
        from the snapshot. ``reader`` must not keep or change the state."""
        self.reach(caller, plan_id, entry, f"view:{view}", emergency=True)
        return self.service.read_current(plan_id, reader)

    def events(
        self, caller: Principal, plan_id: UUID, entry: AccessEntry, *, view: str
    ) -> list[PlanEvent]:
        """The plan's whole event history."""
        self.reach(caller, plan_id, entry, f"view:{view}", emergency=True)
        found = self.service.events_of(plan_id)
        if not found:
            raise PlanNotFound(plan_id)
        return found

    def searched_state(self, caller: Principal, plan_id: UUID) -> PlanState | None:
        """A plan's current state for a search across plans (``visible_plan_ids``), or None when
        it is outside ``caller``'s reach or unknown. The search is one access-log entry, which
        names the search rather than each plan it looked at."""
        found = self.header(plan_id)
        if found is None or not can_read_plan(
            caller, found.clinician_id, found.supervisor_id, plan_id
        ):
            return None
        return self.service.load(plan_id)

    def searched_state_at(
        self,
        caller: Principal,
        plan_id: UUID,
        *,
        as_of: datetime | None,
        effective_on: date | None,
    ) -> PlanState | None:
        """A plan as the chart stood at ``as_of`` and/or as in clinical effect on
        ``effective_on``, for a search across plans (as ``searched_state``); None when it is
        out of reach, unknown, not yet opened then or not yet in effect on that date."""
        found = self.header(plan_id)
        if found is None or not can_read_plan(
            caller, found.clinician_id, found.supervisor_id, plan_id
        ):
            return None
        try:
            state = self.service.load_at(plan_id, as_of=as_of, effective_on=effective_on)
        except NotFound:
            return None
        if effective_on is not None and effective_on < state.effective_date:
            return None
        return state

    def searched_events(self, caller: Principal, plan_id: UUID) -> list[PlanEvent]:
        """A plan's event history for a search across plans (as ``searched_state``); empty when
        it is outside ``caller``'s reach or unknown."""
        found = self.header(plan_id)
        if found is None or not can_read_plan(
            caller, found.clinician_id, found.supervisor_id, plan_id
        ):
            return []
        return self.service.events_of(plan_id)

    # ------------------------------------------------------------------------ audits
    @staticmethod
    def may_audit(caller: Principal, found: PlanHeader) -> bool:
        """Whose plans an audit of dates of service answers about: an auditor's and an admin's,
        every plan (an admin gets compliance facts, never the plan's document); anyone else's,
        the plans they may read."""
        if caller.role in ("auditor", "admin"):
            return True
        return can_read_plan(caller, found.clinician_id, found.supervisor_id, found.plan_id)

    def audit_plan_ids(self, caller: Principal, client_id: str, entry: AccessEntry) -> list[UUID]:
        """The plans of the client with this MRN that ``caller`` may audit, oldest first; none
        is ``NotFound``, as for a client who does not exist."""
        out = []
        denied = False
        for plan_id in recorder_of(self.service).plan_ids():
            found = self.header(plan_id)
            if found is None or found.client_id != client_id:
                continue
            if self.may_audit(caller, found):
                out.append(plan_id)
            else:
                denied = True
        if not out:
            entry.outcome = "denied" if denied else "not_found"
            raise NotFound("no client with this id is in your reach")
        return out

    def audit_events(
        self, caller: Principal, plan_id: UUID, entry: AccessEntry, *, action: str
    ) -> list[PlanEvent]:
        """The plan's whole event history for an audit (``may_audit``); a plan out of reach is
        the unknown plan's ``PlanNotFound``."""
        self._header_if(plan_id, entry, action, lambda found: self.may_audit(caller, found))
        events = self.service.events_of(plan_id)
        if not events:
            raise PlanNotFound(plan_id)
        return events

    # -------------------------------------------------------------------------- writes
    def open_plan(
        self,
        caller: Principal,
        body: Mapping[str, Any],
        envelope: Mapping[str, Any],
        *,
        idempotency_key: str | None,
        entry: AccessEntry,
    ) -> CommandResult:
        """Open a plan in the caller's own caseload."""
        entry.action = "OpenPlan"
        clinician_id = body.get("clinician_id") or caller.user_id
        if caller.role != "clinician" or clinician_id != caller.user_id:
            entry.outcome = "denied"
            raise AccessDenied("a clinician opens plans for their own caseload only")
        command = parse_command(
            cmd.OpenPlan,
            {
                "client": body.get("client"),
                "clinician": {
                    "user_id": caller.user_id,
                    "name": caller.name,
                    "credentials": caller.credentials,
                    "license_number": caller.license_number,
                },
                "supervisor": self._supervisor(caller, body.get("supervisor_id")),
                **{
                    key: body[key]
                    for key in (
                        "plan_end_date",
                        "review_interval_days",
                        "service_type",
                        "session_minutes",
                        "participants",
                    )
                    if body.get(key) is not None
                },
            },
        )
        meta = parse_meta(
            dict(envelope),
            actor=caller.actor(),
            command_id=self.command_id(caller, idempotency_key),
        )
        self._one_identity_per_client(command.client, entry)
        with pending_write(entry, self.service.clock):
            result = self.service.open_plan(command, meta)
        entry.plan_id = result.plan_id
        entry.outcome = "ok"
        return result

    def _one_identity_per_client(self, client: cmd.ClientIn, entry: AccessEntry) -> None:
        """One MRN names one person: a plan that gives an MRN already in the store another
        name or date of birth is refused, whoever's caseload the other plans are in, so that
        FHIR's Patient and an export never have two people to choose from (docs/domain.md,
        rules). The refusal names the field, never the recorded value, which the caller may
        have no right to read."""
        known = self._caseload.client_identities(client.id)
        if not known or (client.name, client.date_of_birth) in known:
            return
        entry.outcome = "rejected"
        field = (
            "client.name"
            if all(client.name != name for name, _ in known)
            else "client.date_of_birth"
        )
        what = "name" if field == "client.name" else "date of birth"
        raise RuleViolation.on(
            field,
            f"the client id {client.id} is already recorded with another {what}; one client id "
            "names one client (check the id, or use the name and date of birth on their chart)",
        )

    def _supervisor(self, caller: Principal, supervisor_id: object) -> dict[str, Any] | None:
        if supervisor_id is None:
            me = self.accounts.get(caller.user_id)
            candidates = me.supervisor_ids if me is not None else ()
            if len(candidates) != 1:
                return None
            supervisor_id = candidates[0]
        user = self.accounts.get(str(supervisor_id))
        if user is None or user.role != "supervisor" or user.disabled:
            raise InvalidInput.on("supervisor_id", "is not an active supervisor")
        return {
            "user_id": user.user_id,
            "name": user.name,
            "credentials": user.credentials,
            "license_number": user.license_number,
        }

    def _admit(
        self,
        caller: Principal,
        plan_id: UUID,
        command: cmd.PlanCommand,
        entry: AccessEntry,
        envelope: Mapping[str, Any],
        action: str,
    ) -> PlanHeader:
        """The checks before ``command`` is run (or previewed) for ``caller``: role rule (403),
        reach (404), item rule (403)."""
        entry.action = action
        denial = command_denial(caller, command)
        if denial is not None:
            entry.plan_id = str(plan_id)
            entry.outcome = "denied"
            raise AccessDenied(denial)
        if unset := envelope_denial(caller, envelope):
            entry.plan_id = str(plan_id)
            entry.outcome = "denied"
            field, why = unset
            raise AccessDenied(f"{field}: {why}", errors=(FieldProblem(field, why),))
        found = self.reach(caller, plan_id, entry, action)
        if caller.role == "clinician" and not can_write_plan(caller, found.clinician_id):
            entry.outcome = "denied"  # unreachable today: a clinician only reaches their own plans
            raise AccessDenied("only the plan's clinician changes it")
        if isinstance(command, cmd.RevokeSignature):
            signature = self.service.load(plan_id).signatures.get(command.signature_id)
            if signature is not None:
                reason = signature_revoke_denial(caller, found.clinician_id, signature.signer_id)
                if reason is not None:
                    entry.outcome = "denied"
                    raise AccessDenied(reason)
        return found

    def execute(
        self,
        caller: Principal,
        plan_id: UUID,
        command: cmd.PlanCommand,
        envelope: Mapping[str, Any],
        *,
        if_match: int | None,
        idempotency_key: str | None,
        entry: AccessEntry,
    ) -> CommandResult:
        """Run ``command`` on the plan for ``caller``: role rule (403), reach (404), item rule
        (403), the continuation rule (422), then the engine (If-Match → 412, lost race → 409,
        key reuse → 422).

        The continuation rule: a review completed, or a plan renewed, that would be judged
        copied forward (or nearly) needs a ``continuation_reason``. It is judged on the plan
        at the If-Match version (else the current one), and the command is then run expecting
        exactly that version, so the verdict recorded is the one checked; without If-Match, a
        write that lands in between has the check made again (``STALE_RETRIES``)."""
        self._admit(caller, plan_id, command, entry, envelope, type(command).__name__)
        if if_match is not None and not 1 <= if_match <= MAX_EXPECTED_VERSION:
            raise StaleVersion(if_match, self.service.load(plan_id).version)
        continued = isinstance(command, cmd.CompleteReview | cmd.RenewPlan)
        attempts = 1 if if_match is not None or not continued else STALE_RETRIES
        for attempt in range(attempts):
            meta = parse_meta(
                dict(envelope),
                actor=caller.actor(),
                command_id=self.command_id(caller, idempotency_key),
                expected_version=if_match,
            )
            if isinstance(command, cmd.CompleteReview | cmd.RenewPlan):
                judged = self._check_continuation(caller, plan_id, command, meta, entry)
                meta = meta.model_copy(update={"expected_version": judged})
            try:
                with pending_write(entry, self.service.clock):
                    result = self.service.execute(plan_id, command, meta)
            except StaleVersion:
                if if_match is not None or attempt == attempts - 1:
                    raise
                continue
            entry.outcome = "ok"
            return result
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _check_continuation(
        self,
        caller: Principal,
        plan_id: UUID,
        command: cmd.CompleteReview | cmd.RenewPlan,
        meta: cmd.CommandMeta,
        entry: AccessEntry,
    ) -> int | None:
        """Refuse ``command`` without a continuation reason when the record would be judged
        copied forward on the plan at ``meta.expected_version`` (None: now); the version
        judged, which the command must then be run on. When the rule does not apply (no plan,
        a stale If-Match, a review not open, a plan not active) or the engine would refuse the
        command anyway, the engine answers as it would without the rule: its own refusal
        first, or a retried command's first answer."""
        version = meta.expected_version
        events = self.service.events_of(plan_id)
        if not events or (version is not None and events[-1].originator_version != version):
            return version
        state, preview = judge(events, command, self.profile, ())
        if state is None or not preview["applies"] or self._refused(plan_id, state, command, meta):
            return version
        if preview["requires_reason"] and command.continuation_reason is None:
            entry.outcome = "rejected"
            raise RuleViolation.on("continuation_reason", preview["message"])
        return int(preview["version"])

    def _refused(
        self,
        plan_id: UUID,
        state: PlanState,
        command: cmd.PlanCommand,
        meta: cmd.CommandMeta,
        *,
        reraise: bool = False,
    ) -> bool:
        """Whether the engine's rules refuse ``command`` on ``state`` (decided, never saved);
        ``reraise``: raise the engine's error instead."""
        now = max(self.service.clock(), state.last_recorded_at)
        try:
            decide(state, command, Context(plan_id, meta, now, self.service.late_entry_days))
        except PlantrailError:
            if reraise:
                raise
            return True
        return False

    def continuation_preview(
        self,
        caller: Principal,
        plan_id: UUID,
        command: cmd.CompleteReview | cmd.RenewPlan,
        entry: AccessEntry,
        *,
        version: int | None = None,
        envelope: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """What completing the review or renewing the plan would be judged now (or on the
        plan at ``version``), for a caller who may run ``command``; stores nothing
        (``continuation.continuation_preview``, with the plan's objective statements found in
        other clients' plans). Given the write's ``envelope`` (a dry run), the engine's rules
        are checked too, on the plan judged: what the write would refuse, the preview refuses
        with the same error."""
        action = f"Preview{type(command).__name__}"
        found = self._admit(caller, plan_id, command, entry, envelope or {}, action)
        events = self.service.events_of(plan_id, lte=version)
        if not events:
            entry.outcome = "not_found"
            raise PlanNotFound(plan_id)
        if version is not None and events[-1].originator_version != version:
            raise StaleVersion(version, events[-1].originator_version)
        shared = (
            self._caseload.shared_statements(plan_id, found.client_id)
            if found.client_id is not None
            else []
        )
        state, preview = judge(events, command, self.profile, shared)
        if envelope is not None:
            assert state is not None  # the plan's events start with its opening
            meta = parse_meta(dict(envelope), actor=caller.actor())
            try:
                self._refused(plan_id, state, command, meta, reraise=True)
            except PlantrailError:
                entry.outcome = "rejected"
                raise
        entry.outcome = "ok"
        return preview

    def statement_elsewhere(
        self, caller: Principal, plan_id: UUID, text: str, entry: AccessEntry
    ) -> int:
        """How many other clients' plans use ``text`` verbatim (after normalisation), for the
        authoring pages of a plan ``caller`` may change: counted, never named. From the
        caseload read model, which may lag the latest writes."""
        found = self.reach(caller, plan_id, entry, "view:statement-elsewhere")
        if not can_write_plan(caller, found.clinician_id):
            entry.outcome = "denied"
            raise PlanNotFound(plan_id)
        entry.outcome = "ok"
        return self._caseload.statement_elsewhere(text, found.client_id or "", plan_id)

    @staticmethod
    def command_id(caller: Principal, idempotency_key: str | None) -> str | None:
        if idempotency_key is None:
            return None
        return f"http:{caller.user_id}:{idempotency_key}"
