"""What the store reports while it works, for whoever watches it (the server's ``/metrics``).

The store knows nothing of Prometheus: it calls the observers registered here, and the server
registers the ones that count (``plantrail.api.routing.metrics``). An observer must be cheap and
must not fail; one that raises is ignored, so watching never breaks a write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

AppendObserver = Callable[[int], None]
"""Called after a write committed, with the number of events it appended."""
BatchObserver = Callable[[int, float, bool], None]
"""Called after an access-log group commit: rows in the batch, seconds from ``BEGIN`` to the
fsync'd ``COMMIT`` (or to the failure), and whether it was stored."""

_appends: list[AppendObserver] = []
_batches: list[BatchObserver] = []


def on_append(observer: AppendObserver) -> None:
    if observer not in _appends:
        _appends.append(observer)


def on_access_batch(observer: BatchObserver) -> None:
    if observer not in _batches:
        _batches.append(observer)


def appended(events: int) -> None:
    for observer in _appends:
        with contextlib.suppress(Exception):
            observer(events)


def access_batch(rows: int, seconds: float, stored: bool) -> None:
    for observer in _batches:
        with contextlib.suppress(Exception):
            observer(rows, seconds, stored)
