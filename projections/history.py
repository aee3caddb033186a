"""The event history of a plan as users read it (``GET /plans/{id}/events``, ``plantrail events``).

Each entry: version, type, both times, actor, entry kind, rationale, the event's own data and
whether it is a late entry (effective more than ``late_entry_days`` before it was recorded).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from plantrail.domain.events import PlanEvent

METADATA_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "recorded_at",
        "actor",
        "effective_date",
        "entry_kind",
        "rationale",
        "command_id",
    }
)


def is_late(event: PlanEvent, late_entry_days: int = 7) -> bool:
    return event.effective_date < event.recorded_at.date() - timedelta(days=late_entry_days)


def event_entry(event: PlanEvent, late_entry_days: int = 7) -> dict[str, Any]:
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "recorded_at": event.recorded_at.isoformat().replace("+00:00", "Z"),
        "effective_date": event.effective_date.isoformat(),
        "actor": event.actor.model_dump(mode="json"),
        "entry_kind": event.entry_kind,
        "rationale": event.rationale,
        "command_id": event.command_id,
        "late_entry": is_late(event, late_entry_days),
        "data": event.model_dump(mode="json", exclude=set(METADATA_FIELDS)),
    }


def event_history(events: Iterable[PlanEvent], late_entry_days: int = 7) -> list[dict[str, Any]]:
    return [event_entry(event, late_entry_days) for event in events]
