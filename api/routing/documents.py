"""The plan document as response bytes, rendered once per plan version and day.

Building a plan's document (``projections.document.plan_document``), validating it against the
``PlanDocument`` response model and serialising it costs about 1.5 ms for a 40-event plan, more
than everything else a current read does. The document is a pure function of the plan at one
version and of the day it is read on (review due dates), so the bytes of the latest rendering are
kept per plan and served again while neither changes. They are exactly the bytes FastAPI writes
for a ``PlanDocument`` return value (the same validation, the same ``TypeAdapter.dump_json``
with aliases), so the response does not change, only how often it is computed; the OpenAPI
schema still declares ``PlanDocument``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from uuid import UUID

from pydantic import TypeAdapter

from plantrail.api.routing.schemas import PlanDocument
from plantrail.domain.plan import PlanState
from plantrail.projections.document import plan_document

_DOCUMENT = TypeAdapter(PlanDocument)


def render_document(state: PlanState, today: date) -> bytes:
    """The JSON of ``state``'s document on ``today``, as FastAPI would serialise it."""
    document = PlanDocument.model_validate(plan_document(state, today=today))
    return _DOCUMENT.dump_json(document, by_alias=True)


class RenderedDocuments:
    """The latest rendered document of recently read plans (LRU, thread-safe)."""

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self._documents: OrderedDict[UUID, tuple[int, date, bytes]] = OrderedDict()
        self._guard = threading.Lock()

    def document(self, plan_id: UUID, state: PlanState, today: date) -> bytes:
        """``state``'s document on ``today``: the kept bytes if they are of this very version
        and day, else a new rendering (which is then kept)."""
        with self._guard:
            found = self._documents.get(plan_id)
            if found is not None and found[0] == state.version and found[1] == today:
                self._documents.move_to_end(plan_id)
                return found[2]
        body = render_document(state, today)
        with self._guard:
            self._documents[plan_id] = (state.version, today, body)
            self._documents.move_to_end(plan_id)
            while len(self._documents) > self.maxsize:
                self._documents.popitem(last=False)
        return body
