"""How plan events become stored bytes and back, and what the service needs from a store.

The mapper writes each event as compact JSON (orjson) without the two columns the store keeps
separately (plan id and version) and reads it back through the upcaster chain, so old events
stay readable when a class changes (ADR 0003). ``PlanRecorder`` is the store contract the
service depends on; ``plantrail.projections.store`` implements it on SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent

from plantrail.domain.events import PlanEvent, event_class_for_topic, upcast


class PlanEventMapper(Mapper[UUID]):
    """Pydantic events ↔ ``StoredEvent`` with explicit topics and upcasting."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: PlanEvent = domain_event
        state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
        if type(event).class_version > 1:
            state["class_version"] = type(event).class_version
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=type(event).TOPIC,
            state=orjson.dumps(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> PlanEvent:
        return decode_event(
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            stored_event.state,
        )


def decode_event(plan_id: UUID | str, version: int, topic: str, state: bytes) -> PlanEvent:
    """The event stored as ``state`` under ``topic``, upcast to its class's current shape.

    A module function (the mapper delegates to it) so that a rebuild can decode in a helper
    process, which cannot be handed the application's mapper (it does not pickle)."""
    return decode_fields(plan_id, version, topic, orjson.loads(state))


def decode_fields(
    plan_id: UUID | str, version: int, topic: str, fields: dict[str, Any]
) -> PlanEvent:
    """``decode_event`` of a payload already parsed (the import parses each one once). It
    takes ``fields`` over: they are upcast in place."""
    cls = event_class_for_topic(topic)
    fields = upcast(cls, fields)
    fields["originator_id"] = plan_id
    fields["originator_version"] = version
    return cls.model_validate(fields)


@dataclass(frozen=True)
class CommandRecord:
    """A command's idempotency record, stored in the same transaction as its events."""

    command_id: str
    plan_id: UUID
    payload_hash: str
    result: dict[str, Any]


@dataclass(frozen=True)
class SnapshotRecord:
    plan_id: UUID
    version: int
    state: bytes


class PlanRecorder(Protocol):
    """What the plan service needs from a store, beyond eventsourcing's ApplicationRecorder."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None: ...

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]: ...

    def find_command(self, command_id: str) -> CommandRecord | None: ...

    def select_snapshot(self, plan_id: UUID, lte: int | None) -> SnapshotRecord | None: ...

    def snapshot_version(self, plan_id: UUID, lte: int | None) -> int | None:
        """The version of the snapshot ``select_snapshot`` would return, without its bytes."""
        ...

    def version_recorded_by(self, plan_id: UUID, at: datetime) -> int | None: ...

    def first_version_effective_after(
        self, plan_id: UUID, on: date, lte: int | None
    ) -> int | None: ...

    def select_events_effective_by(
        self, plan_id: UUID, on: date, gt: int, lte: int | None
    ) -> Sequence[StoredEvent]: ...

    def plan_exists(self, plan_id: UUID) -> bool: ...

    def close(self) -> None: ...
