"""Snapshots of a plan's state: their bytes, and an in-process cache of decoded ones, so that a
read of a long plan costs what the plan's *current* part costs, not what its whole history
costs (ADR 0017).

A plan's state has two parts:

- the **shared** part: measurements, reviews, rationales and entry kinds. They only grow, each
  item changes at most once after it is added (a void, a completion), and that change replaces
  the item. So the shared part of the plan at version ``v`` can be read off any later state:
  the items added by ``v``, each as it stood at ``v``. On a long plan it is nearly all of the
  state (91 % of a 10,000-event plan of the benchmark suite);
- the **main** part: everything else (status, problems, goals, objectives, interventions,
  signatures, counters ...), small whatever the history's length.

Snapshot bytes (format 2) are the main part, then a newline and the shared part. When the
store writes a plan's next snapshot it trims the one before to its main part, so only a plan's
newest snapshot carries the shared part and storage grows with the history, not with its
square. A trimmed snapshot is completed from a later decoded state of the same plan (any of
them; the cache keeps the newest in use), else from the plan's newest snapshot. Format 1 (the
whole state as one JSON object, written before 2026-12-04) is still read as it is.

Decoded states are kept, keyed by plan and version: a snapshot never changes once written
(trimming drops a part that can be derived; it changes no value). A decoded state is never
handed out: each read gets a working copy to fold later events into, which re-creates the
main part from JSON and shares the shared part's items (immutable: frozen models).
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass
from itertools import islice, pairwise
from uuid import UUID

from plantrail.domain.plan import Measurement, PlanState, Review

SNAPSHOT_FORMAT = 2
"""Bumped whenever the bytes change shape; older formats are still read (or refolded)."""

SHARED: set[str] = {"measurements", "reviews", "rationales", "entry_kinds"}
"""The fields of ``PlanState`` that a later state of the same plan can supply."""

_FORMAT_1 = b'{"format":1,"state":'
_FORMAT_2 = b'{"format":2,"state":'
_SEPARATOR = b"\n"
"""Compact JSON never holds a raw newline (it is escaped inside strings)."""


def snapshot_bytes(state: PlanState) -> bytes:
    """Format 2: ``{"format":2,"state":<main part>}``, a newline, ``<shared part>``."""
    main = state.model_dump_json(exclude=SHARED).encode()
    shared = state.model_dump_json(include=SHARED).encode()
    return _FORMAT_2 + main + b"}" + _SEPARATOR + shared


@dataclass(frozen=True)
class Decoded:
    state: PlanState
    complete: bool
    """False for a trimmed snapshot: its shared fields are empty until completed."""


def decode(data: bytes) -> Decoded | None:
    """The snapshot's state, or None when its format is not one this code reads (refolded).

    Raises ``ValueError`` (pydantic's ``ValidationError``) when the bytes are not a valid
    snapshot of a known format."""
    if data.startswith(_FORMAT_2):
        cut = data.find(_SEPARATOR)
        main = data[len(_FORMAT_2) : (cut if cut >= 0 else len(data)) - 1]
        if cut < 0:
            return Decoded(PlanState.model_validate_json(main), complete=False)
        # One validation of both parts: the main object's closing brace becomes a comma.
        return Decoded(
            PlanState.model_validate_json(main[:-1] + b"," + data[cut + 2 :]), complete=True
        )
    if data.startswith(_FORMAT_1) and data.endswith(b"}"):
        return Decoded(PlanState.model_validate_json(data[len(_FORMAT_1) : -1]), complete=True)
    return None


class _Prefixes:
    """For one complete state: where each shared collection's items stand by version, so the
    shared part at an earlier version is a slice plus the few items changed since."""

    def __init__(self, state: PlanState) -> None:
        measurements = list(state.measurements.values())
        reviews = list(state.reviews.values())
        self.measurements_added = [m.added_version for m in measurements]
        self.voided = [m for m in measurements if m.voided_version is not None]
        self.reviews_added = [r.added_version for r in reviews]
        self.completed = [r for r in reviews if r.completed_version is not None]
        self.rationale_versions = [n.version for n in state.rationales]
        self.entry_versions = list(state.entry_kinds)
        # What the fold guarantees (items in version order, each changed at most once, by a
        # void or a completion); checked, so that a state breaking it is never derived from.
        self.exact = (
            _ascending(self.measurements_added)
            and _ascending(self.reviews_added)
            and _ascending(self.rationale_versions)
            and _ascending(self.entry_versions)
            and all(
                m.changed_version
                == (m.added_version if m.voided_version is None else m.voided_version)
                for m in measurements
            )
            and all(
                r.changed_version
                == (r.added_version if r.completed_version is None else r.completed_version)
                for r in reviews
            )
        )


def _ascending(values: list[int]) -> bool:
    return all(a <= b for a, b in pairwise(values))


def _unvoided(m: Measurement) -> Measurement:
    return m.model_copy(update={"voided_version": None, "changed_version": m.added_version})


def _started(r: Review) -> Review:
    """The review as its start made it (what ``_review_started`` in ``plan`` builds)."""
    return r.model_copy(
        update={
            "completed_version": None,
            "changed_version": r.added_version,
            "completed_at": None,
            "completed_effective_date": None,
            "assessments": [],
            "progress_summary": None,
            "client_input": None,
            "next_review_date": None,
        }
    )


def complete_from(main: PlanState, later: PlanState, prefixes: _Prefixes) -> PlanState:
    """``main`` (a trimmed snapshot's state) with its shared part read off ``later``, a
    complete state of the same plan at the same or a later version. In place; returns it."""
    v = main.version
    main.measurements = dict(
        islice(later.measurements.items(), bisect.bisect_right(prefixes.measurements_added, v))
    )
    for m in prefixes.voided:
        if m.added_version <= v < (m.voided_version or 0):
            main.measurements[m.id] = _unvoided(m)
    main.reviews = dict(
        islice(later.reviews.items(), bisect.bisect_right(prefixes.reviews_added, v))
    )
    for r in prefixes.completed:
        if r.added_version <= v < (r.completed_version or 0):
            main.reviews[r.id] = _started(r)
    main.rationales = later.rationales[: bisect.bisect_right(prefixes.rationale_versions, v)]
    main.entry_kinds = dict(
        islice(later.entry_kinds.items(), bisect.bisect_right(prefixes.entry_versions, v))
    )
    return main


def working_copy(state: PlanState) -> PlanState:
    """An independent state equal to ``state``, sharing only its shared part's (immutable)
    items: a fold into the copy replaces items, never changes them."""
    copy = PlanState.model_validate_json(state.model_dump_json(exclude=SHARED))
    copy.measurements = dict(state.measurements)
    copy.reviews = dict(state.reviews)
    copy.rationales = list(state.rationales)
    copy.entry_kinds = dict(state.entry_kinds)
    return copy


@dataclass
class _Entry:
    state: PlanState
    whole: bool
    """Decoded from a snapshot that kept its shared part: what others are completed from
    (one index per plan, not one per completed state)."""
    prefixes: _Prefixes | None = None


class DecodedSnapshots:
    """LRU map of (plan, snapshot version) to the decoded, complete, never-mutated state."""

    def __init__(self, maxsize: int = 32) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[UUID, int], _Entry] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, plan_id: UUID, version: int) -> PlanState | None:
        with self._guard:
            entry = self._entries.get((plan_id, version))
            if entry is None:
                return None
            self._entries.move_to_end((plan_id, version))
            return entry.state

    def put(self, plan_id: UUID, version: int, state: PlanState, *, whole: bool = False) -> None:
        with self._guard:
            self._entries[(plan_id, version)] = _Entry(state, whole)
            self._entries.move_to_end((plan_id, version))
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def complete(self, plan_id: UUID, main: PlanState) -> PlanState | None:
        """``main`` completed from the nearest whole decoded state of the plan at or after its
        version, or None when there is none to complete it from."""
        with self._guard:
            found: tuple[tuple[UUID, int], _Entry] | None = None
            for key, entry in self._entries.items():
                if (
                    key[0] == plan_id
                    and key[1] >= main.version
                    and entry.whole
                    and (found is None or key[1] < found[0][1])
                ):
                    found = (key, entry)
            if found is None:
                return None
            key, entry = found
            self._entries.move_to_end(key)
            if entry.prefixes is None:
                entry.prefixes = _Prefixes(entry.state)
            prefixes, later = entry.prefixes, entry.state
        if not prefixes.exact:
            return None
        return complete_from(main, later, prefixes)

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
