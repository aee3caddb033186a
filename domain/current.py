"""An in-process cache of each plan's latest state, for the command path and current reads.

Decoding a large plan's snapshot costs milliseconds, and deep-copying a state costs more, so
the latest state of recently used plans is kept in memory. It is never trusted blindly, since
other processes may have written since. A read catches it up from the store first (one indexed
query for events after the cached version). A write decides on it directly: the store's unique
(plan, version) constraint refuses a write that chose a version another process already took.
The service then reloads the plan and decides again, and it catches the state up before it
lets a refusal stand. Each plan has a lock: a state is only read or mutated while it is held,
and a write whose save fails evicts the state (it may hold unsaved events).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from uuid import UUID

from plantrail.domain.plan import PlanState


class CurrentStates:
    """LRU map of plan id to its latest known state, with one lock per plan."""

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._states: OrderedDict[UUID, PlanState] = OrderedDict()
        self._locks: dict[UUID, threading.RLock] = {}
        self._guard = threading.Lock()

    def lock(self, plan_id: UUID) -> threading.RLock:
        with self._guard:
            found = self._locks.get(plan_id)
            if found is None:
                found = self._locks[plan_id] = threading.RLock()
            return found

    def get(self, plan_id: UUID) -> PlanState | None:
        with self._guard:
            state = self._states.get(plan_id)
            if state is not None:
                self._states.move_to_end(plan_id)
            return state

    def put(self, plan_id: UUID, state: PlanState) -> None:
        with self._guard:
            self._states[plan_id] = state
            self._states.move_to_end(plan_id)
            while len(self._states) > self.maxsize:
                self._states.popitem(last=False)

    def evict(self, plan_id: UUID) -> None:
        with self._guard:
            self._states.pop(plan_id, None)

    def clear(self) -> None:
        with self._guard:
            self._states.clear()
