"""``PlanService``: the one application service that runs commands and loads plans.

Command pipeline: take the plan's state (kept in memory per plan, else loaded from the nearest
snapshot plus the events after it), check the version the caller read, decide, fold, and save
events, command record and snapshot in one transaction. The store's unique (plan, version)
constraint makes exactly one of several concurrent writers win, and the command record's
primary key makes a retried command store nothing: it gets its first answer, which is looked
up only when a command is refused or collides (so a new command costs no read at all).

Reads: the plan at a version, ``as_of`` a recorded instant, ``effective_on`` a clinical date, or
both, each from the store's index columns plus the nearest snapshot, so the cost stays flat as a
history grows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper

from plantrail.domain import commands as cmd
from plantrail.domain import events as ev
from plantrail.domain import snapshots
from plantrail.domain.content import canonical_json
from plantrail.domain.current import CurrentStates
from plantrail.domain.decide import DEFAULT_LATE_ENTRY_DAYS, Context, decide, open_plan
from plantrail.domain.errors import (
    CommandReused,
    ConcurrentWrite,
    InvalidInput,
    NotFound,
    PlanDischargedError,
    PlanNotFound,
    StaleVersion,
)
from plantrail.domain.persistence import (
    CommandRecord,
    PlanEventMapper,
    PlanRecorder,
    SnapshotRecord,
)
from plantrail.domain.plan import PlanState, apply, fold
from plantrail.domain.snapshots import DecodedSnapshots, working_copy

T = TypeVar("T")


_CREATED_ITEM: dict[type[ev.PlanEvent], str] = {
    ev.DiagnosisAdded: "code",
    ev.ProblemAdded: "problem_id",
    ev.GoalAdded: "goal_id",
    ev.ObjectiveAdded: "objective_id",
    ev.InterventionAdded: "intervention_id",
    ev.MeasurementRecorded: "measurement_id",
    ev.StrengthNoted: "strength_id",
    ev.BarrierNoted: "barrier_id",
    ev.ReviewStarted: "review_id",
    ev.SignatureRequested: "request_id",
    ev.SignatureCaptured: "signature_id",
    ev.AmendmentRequested: "amendment_id",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CommandResult:
    """The answer to a command, stored with it so that a retry gets exactly the same answer."""

    plan_id: str
    version: int
    item_id: str | None = None
    label: str | None = None
    events: int = 1
    created: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The stored form (what ``dataclasses.asdict`` gives, without its deep copying)."""
        return {
            "plan_id": self.plan_id,
            "version": self.version,
            "item_id": self.item_id,
            "label": self.label,
            "events": self.events,
            "created": self.created,
        }


def _hash_of(
    plan_id: UUID | None, command: cmd.Command, meta: cmd.CommandMeta, exclude: set[str]
) -> str:
    body = {
        "type": type(command).__name__,
        "plan_id": str(plan_id) if plan_id else None,
        "command": command.model_dump(mode="json"),
        "meta": meta.model_dump(mode="json", exclude=exclude),
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


class _Payload:
    """A command's payload as its command id is bound to it: the change (command type, plan,
    fields and envelope), not the version its caller read. A retry that refreshed ``If-Match``
    is the same change; refusing it would invite the client to resend under a new id and
    store the change twice (docs/api.md, "Versions, concurrency and retries")."""

    __slots__ = ("command", "hash", "meta", "plan_id")

    def __init__(self, plan_id: UUID | None, command: cmd.Command, meta: cmd.CommandMeta) -> None:
        self.plan_id = plan_id
        self.command = command
        self.meta = meta
        self.hash = _hash_of(plan_id, command, meta, {"command_id", "expected_version"})

    def matches(self, stored: str, result: dict[str, Any]) -> bool:
        """Whether a stored command record is this change. Records stored before the hash left
        out the expected version keep their hash (stored rows are never rewritten): theirs
        included the version the caller sent, which was none or the version the command was
        decided on (any other was refused and stored nothing), so both are tried."""
        if stored == self.hash:
            return True
        decided_on = int(result["version"]) - int(result["events"])
        return any(
            stored
            == _hash_of(
                self.plan_id,
                self.command,
                self.meta.model_copy(update={"expected_version": version}),
                {"command_id"},
            )
            for version in (None, decided_on)
        )


class PlanService(Application[UUID]):
    """Runs plan commands and loads plans; persistence comes from ``PERSISTENCE_MODULE``."""

    name = "plantrail"
    """Pinned: eventsourcing derives configuration prefixes from it (ADR 0002)."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        late_entry_days: int = DEFAULT_LATE_ENTRY_DAYS,
        snapshot_interval: int = 50,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.late_entry_days = late_entry_days
        self.snapshot_interval = snapshot_interval
        self.current_states = CurrentStates()
        self.decoded_snapshots = DecodedSnapshots()

    def construct_mapper(self) -> Mapper[UUID]:
        return PlanEventMapper(transcoder=self.factory.transcoder())

    @property
    def store(self) -> PlanRecorder:
        return cast(PlanRecorder, self.recorder)

    # ------------------------------------------------------------------------- commands
    def open_plan(self, command: cmd.OpenPlan, meta: cmd.CommandMeta) -> CommandResult:
        """Open a new plan; answers with its id at version 1."""
        payload = _Payload(None, command, meta)
        return self._answered(payload, lambda: self._open(command, meta, payload))

    def _open(
        self, command: cmd.OpenPlan, meta: cmd.CommandMeta, payload: _Payload
    ) -> CommandResult:
        plan_id = uuid4()
        ctx = Context(plan_id, meta, self.clock(), self.late_entry_days)
        events = open_plan(command, ctx)
        state = fold(events)
        assert state is not None
        result = CommandResult(str(plan_id), state.version, str(plan_id), None, 1, True)
        return self._save(plan_id, events, state, meta, payload, result)

    def execute(
        self, plan_id: UUID, command: cmd.PlanCommand, meta: cmd.CommandMeta
    ) -> CommandResult:
        """Run ``command`` on the plan; answers with the new version (and any new item)."""
        payload = _Payload(plan_id, command, meta)
        return self._answered(payload, lambda: self._execute(plan_id, command, meta, payload))

    def _answered(self, payload: _Payload, run: Callable[[], CommandResult]) -> CommandResult:
        """Run a new command, or give a retried one its first answer.

        The command id is looked up only when the command is refused: a new command costs no
        lookup, and a retry of a stored one is either refused (its change is already in the
        plan, or the version moved on), or its command record collides with the stored one on
        the primary key, which rolls the whole write back (``_save``).
        """
        try:
            return run()
        except _Collided as collided:  # internal to the service: callers see the public error
            raise ConcurrentWrite(collided.version) from None
        except _REFUSALS:
            if (known := self._known_answer(payload)) is not None:
                return known
            raise

    def _execute(
        self, plan_id: UUID, command: cmd.PlanCommand, meta: cmd.CommandMeta, payload: _Payload
    ) -> CommandResult:
        with self.current_states.lock(plan_id):
            state = self.current_states.get(plan_id)
            # A write that names the version its caller read is decided on a caught-up state:
            # a collision is then a race it lost (ConcurrentWrite), never a stale cache, and a
            # version that moved on before it started is StaleVersion, as the caller expects.
            if state is not None and meta.expected_version is None:
                try:
                    return self._decide_and_save(plan_id, state, command, meta, payload)
                except _REFUSALS:
                    # The cached state may lag behind writes of other processes: a refusal
                    # counts only once the state is caught up with the store.
                    if not self._catch_up(plan_id):
                        raise
                except _Collided:
                    pass  # another process had written the version: reload and try once more
            # A collision now is a real race: ``_answered`` makes it ``ConcurrentWrite``.
            return self._decide_and_save(plan_id, self._caught_up(plan_id), command, meta, payload)

    def _decide_and_save(
        self,
        plan_id: UUID,
        state: PlanState,
        command: cmd.PlanCommand,
        meta: cmd.CommandMeta,
        payload: _Payload,
    ) -> CommandResult:
        """Decide on ``state`` (held under the plan's lock), fold and save; the cache keeps the
        new state, or loses it when the save did not store these events."""
        if meta.expected_version is not None and meta.expected_version != state.version:
            raise StaleVersion(meta.expected_version, state.version)
        # The recorded time never goes backwards within a plan, so "as of" stays a prefix.
        now = max(self.clock(), state.last_recorded_at)
        events = decide(state, command, Context(plan_id, meta, now, self.late_entry_days))
        try:
            for event in events:
                apply(state, event)
            item_id, label = _created_item(events)
            result = CommandResult(
                str(plan_id), state.version, item_id, label, len(events), item_id is not None
            )
            saved = self._save(plan_id, events, state, meta, payload, result)
        except BaseException:
            self.current_states.evict(plan_id)  # it may hold events that were not stored
            raise
        if saved is not result:  # a retry of a stored command: ours were not stored
            self.current_states.evict(plan_id)
        else:
            self.current_states.put(plan_id, state)
        return saved

    def _catch_up(self, plan_id: UUID) -> bool:
        """Fold the events stored since the cached state into it; True if there were any."""
        state = self.current_states.get(plan_id)
        if state is None:
            return True
        newer = self.events_of(plan_id, gt=state.version)
        fold(newer, state)
        return bool(newer)

    def _caught_up(self, plan_id: UUID) -> PlanState:
        """The plan's latest state: the cached one plus any events stored since (hold the lock)."""
        state = self.current_states.get(plan_id)
        if state is None:
            state = self.load(plan_id)
        else:
            fold(self.events_of(plan_id, gt=state.version), state)
        self.current_states.put(plan_id, state)
        return state

    def read_current(self, plan_id: UUID, reader: Callable[[PlanState], T]) -> T:
        """Run ``reader`` on the plan's latest state under its lock; ``reader`` must not keep
        or change the state (it is shared with the command path)."""
        with self.current_states.lock(plan_id):
            return reader(self._caught_up(plan_id))

    def _save(
        self,
        plan_id: UUID,
        events: Sequence[ev.PlanEvent],
        state: PlanState,
        meta: cmd.CommandMeta,
        payload: _Payload,
        result: CommandResult,
    ) -> CommandResult:
        snapshot = None
        first = events[0].originator_version
        if any(v % self.snapshot_interval == 0 for v in range(first, state.version + 1)):
            snapshot = SnapshotRecord(plan_id, state.version, self.snapshot_bytes(state))
        record = CommandRecord(meta.command_id, plan_id, payload.hash, result.as_dict())
        try:
            # The event store directly: ``Application.save`` would first collect the events
            # through runtime Protocol checks that cost more than the rest of the mapping.
            self.events.put(events, command=record, snapshot=snapshot)
        except IntegrityError:
            # Either another writer took this version, or the command was stored before (a
            # retry, or the same command racing itself): nothing of ours was stored.
            if (known := self._known_answer(payload)) is not None:
                return known
            raise _Collided(first) from None
        return result

    def _known_answer(self, payload: _Payload) -> CommandResult | None:
        record = self.store.find_command(payload.meta.command_id)
        if record is None:
            return None
        if not payload.matches(record.payload_hash, record.result):
            raise CommandReused(payload.meta.command_id)
        return CommandResult(**record.result)

    # ---------------------------------------------------------------------------- reads
    def events_of(
        self, plan_id: UUID, *, gt: int | None = None, lte: int | None = None
    ) -> list[ev.PlanEvent]:
        """The plan's events in version order (decoded and upcast)."""
        stored = self.store.select_events(plan_id, gt=gt, lte=lte)
        return [cast(ev.PlanEvent, self.mapper.to_domain_event(s)) for s in stored]

    def load(self, plan_id: UUID, version: int | None = None) -> PlanState:
        """The plan at ``version`` (default: current), from the nearest snapshot."""
        if version is not None and version < 1:
            raise NotFound(f"plan {plan_id} has no version {version}")
        state = self._from_snapshot(plan_id, version)
        gt = state.version if state is not None else None
        state = fold(self.events_of(plan_id, gt=gt, lte=version), state)
        if state is None:
            raise PlanNotFound(plan_id)
        if version is not None and state.version != version:
            raise NotFound(f"plan {plan_id} has no version {version} (latest {state.version})")
        return state

    def load_at(
        self,
        plan_id: UUID,
        *,
        as_of: datetime | None = None,
        effective_on: date | None = None,
        version: int | None = None,
    ) -> PlanState:
        """The plan bitemporally: as the record stood at ``as_of`` (recorded axis), in clinical
        effect on ``effective_on`` (entries recorded later included), at ``version``, or a mix."""
        upper = version
        if as_of is not None:
            recorded = self.store.version_recorded_by(plan_id, as_of)
            if recorded is None:
                if not self.store.plan_exists(plan_id):
                    raise PlanNotFound(plan_id)
                raise NotFound(f"plan {plan_id} had not been opened by {as_of.isoformat()}")
            upper = recorded if upper is None else min(upper, recorded)
        if effective_on is None:
            return self.load(plan_id, upper)
        later = self.store.first_version_effective_after(plan_id, effective_on, upper)
        prefix = (later - 1) if later is not None else upper
        state = self.load(plan_id, prefix) if prefix is None or prefix >= 1 else None
        gt = state.version if state is not None else 0
        late = self.store.select_events_effective_by(plan_id, effective_on, gt, upper)
        state = fold((cast(ev.PlanEvent, self.mapper.to_domain_event(s)) for s in late), state)
        if state is None:
            if not self.store.plan_exists(plan_id):
                # pragma below: defensive. A plan without events has no version effective after
                # any date, so ``load`` above has already raised PlanNotFound for it.
                raise PlanNotFound(plan_id)  # pragma: no cover
            raise NotFound(f"plan {plan_id} was not yet in effect on {effective_on}")
        return state

    def _from_snapshot(self, plan_id: UUID, lte: int | None) -> PlanState | None:
        """A working copy of the nearest snapshot's state at or below ``lte``, or None."""
        version = self.store.snapshot_version(plan_id, lte)
        if version is None:
            return None
        decoded = self.decoded_snapshots.get(plan_id, version)
        if decoded is None:
            found = self._decoded(plan_id, version)
            if found is None:
                return None  # an older format, or gone: fold from the events instead
            decoded = found.state
            self.decoded_snapshots.put(plan_id, version, decoded, whole=found.complete)
        return working_copy(decoded)

    def _decoded(self, plan_id: UUID, version: int) -> snapshots.Decoded | None:
        """The complete state of the snapshot at ``version``; ``complete`` says whether it
        was whole in the store. A trimmed snapshot (all but a plan's newest, ADR 0017) is
        completed from a whole decoded state of the plan at or after it, else from the plan's
        newest snapshot, which is decoded (and kept) first."""
        snapshot = self.store.select_snapshot(plan_id, lte=version)
        found = snapshots.decode(snapshot.state) if snapshot else None
        if found is None or found.state.version != version:
            return None
        if found.complete:
            return found
        state = self.decoded_snapshots.complete(plan_id, found.state)
        if state is None:
            newest = self.store.select_snapshot(plan_id, lte=None)
            top = snapshots.decode(newest.state) if newest else None
            if top is None or not top.complete or top.state.version < version:
                return None
            self.decoded_snapshots.put(plan_id, top.state.version, top.state, whole=True)
            state = self.decoded_snapshots.complete(plan_id, found.state)
        return None if state is None else snapshots.Decoded(state, complete=False)

    @staticmethod
    def snapshot_bytes(state: PlanState) -> bytes:
        return snapshots.snapshot_bytes(state)


class _Collided(ConcurrentWrite):
    """The store already holds the version this write chose (raised inside the service only:
    callers see ``ConcurrentWrite`` once a retry on the caught-up state has collided too)."""


_REFUSALS = (InvalidInput, NotFound, PlanDischargedError, StaleVersion)
"""Errors that refuse a command because of the plan's state: a retried command that was
stored before gets these, and a state cached in memory may cause them until it is caught up."""


def _created_item(events: Sequence[ev.PlanEvent]) -> tuple[str | None, str | None]:
    for event in events:
        attribute = _CREATED_ITEM.get(type(event))
        if attribute is not None:
            return str(getattr(event, attribute)), getattr(event, "label", None)
    return None, None
