"""The server's Prometheus metrics (``GET /metrics``; docs/operations.md, "Monitoring", lists them).

No label carries an identifier or health data: routes are *templates* (``/plans/{plan_id}``,
never a plan's address), and the other labels are closed sets (method, status code, ``ok`` or
``failed``, a pool state). Everything else is a number.

Several workers (``plantrail serve --workers N``): ``serve`` gives them one
``PROMETHEUS_MULTIPROC_DIR``, and prometheus-client's multiprocess mode then keeps each
worker's counters and histograms in memory-mapped files there and sums them on every scrape,
whichever worker answers it. What is read at scrape time (the connection pools, the access
log's queue, the last checkpoint) is the answering worker's own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from plantrail.projections.access.access_log import AccessLog
from plantrail.projections.integrity.checkpoint import latest_checkpoint
from plantrail.projections.store import observe

# No ``*_created`` series: they double the page and mean nothing here.
disable_created_metrics()  # type: ignore[no-untyped-call]

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter(
    "plantrail_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
    registry=None,
)
HTTP_DURATION = Histogram(
    "plantrail_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,
)
WRITES = Counter(
    "plantrail_store_writes", "Writes (commands) committed to the event store.", registry=None
)
EVENTS = Counter(
    "plantrail_store_events_appended", "Events appended to the event store.", registry=None
)
VERIFY_RUNS = Counter(
    "plantrail_verify_runs",
    "Chain verifications run by the server (a plan's GET …/verify, the verify page), by result.",
    ["result"],
    registry=None,
)
VERIFY_LAST = Gauge(
    "plantrail_verify_last_run_timestamp_seconds",
    "Unix time of the server's last chain verification, by result.",
    ["result"],
    multiprocess_mode="max",
    registry=None,
)
ACCESS_BATCHES = Counter(
    "plantrail_access_log_batches",
    "Access-log group commits, by result (failed: the batch's requests answered 503).",
    ["result"],
    registry=None,
)
ACCESS_BATCH_ROWS = Histogram(
    "plantrail_access_log_batch_rows",
    "Rows per access-log group commit.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
    registry=None,
)
ACCESS_COMMIT = Histogram(
    "plantrail_access_log_commit_seconds",
    "Time of one access-log group commit, BEGIN to the fsync'd COMMIT (mostly the fsync).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=None,
)
READY = Gauge(
    "plantrail_ready",
    "The last GET /ready's answer: 1 ready, 0 not ready (absent until /ready is called).",
    multiprocess_mode="mostrecent",
    registry=None,
)
OWN: tuple[Collector, ...] = (
    HTTP_REQUESTS,
    HTTP_DURATION,
    WRITES,
    EVENTS,
    VERIFY_RUNS,
    VERIFY_LAST,
    ACCESS_BATCHES,
    ACCESS_BATCH_ROWS,
    ACCESS_COMMIT,
    READY,
)


def _appended(events: int) -> None:
    WRITES.inc()
    EVENTS.inc(events)


def _access_batch(rows: int, seconds: float, stored: bool) -> None:
    ACCESS_BATCHES.labels(result="ok" if stored else "failed").inc()
    if stored:
        ACCESS_BATCH_ROWS.observe(rows)
        ACCESS_COMMIT.observe(seconds)


observe.on_append(_appended)
observe.on_access_batch(_access_batch)


def verified(ok: bool) -> None:
    """Count one chain verification (``ok``: no problem found)."""
    result = "ok" if ok else "failed"
    VERIFY_RUNS.labels(result=result).inc()
    VERIFY_LAST.labels(result=result).set(time.time())


class StateCollector(Collector):
    """What is read when scraped: the pools, the access log's queue, the last checkpoint."""

    def __init__(
        self,
        engine: Engine,
        access_log: AccessLog,
        checkpoints: Callable[[], Path | None],
        driver_idle: Callable[[], int],
    ) -> None:
        self.engine = engine
        self.access_log = access_log
        self.checkpoints = checkpoints
        self.driver_idle = driver_idle

    def collect(self) -> Iterable[Metric]:
        yield from self._pool()
        queued = GaugeMetricFamily(
            "plantrail_access_log_queued_rows", "Access-log rows waiting for the group commit."
        )
        queued.add_metric([], self.access_log.queued)
        yield queued
        yield from self._checkpoint()

    def _pool(self) -> Iterator[Metric]:
        pool = self.engine.pool
        connections = GaugeMetricFamily(
            "plantrail_db_pool_connections",
            "SQLAlchemy pool connections of the answering process, by state "
            "(checked_out, idle, overflow); driver_idle: the hot paths' own idle connections.",
            labels=["state"],
        )
        if isinstance(pool, QueuePool):
            connections.add_metric(["checked_out"], pool.checkedout())
            connections.add_metric(["idle"], pool.checkedin())
            connections.add_metric(["overflow"], max(0, pool.overflow()))
            size = GaugeMetricFamily(
                "plantrail_db_pool_size", "SQLAlchemy pool size (before overflow)."
            )
            size.add_metric([], pool.size())
            yield size
        connections.add_metric(["driver_idle"], self.driver_idle())
        yield connections

    def _checkpoint(self) -> Iterator[Metric]:
        folder = self.checkpoints()
        found = latest_checkpoint(folder) if folder is not None else None
        if found is None:
            return
        try:
            written = found.stat().st_mtime
        except OSError:
            return
        last = GaugeMetricFamily(
            "plantrail_checkpoint_last_timestamp_seconds",
            "Unix time the newest signed checkpoint file was written.",
        )
        last.add_metric([], written)
        yield last
        age = GaugeMetricFamily(
            "plantrail_checkpoint_age_seconds", "Seconds since the newest signed checkpoint."
        )
        age.add_metric([], max(0.0, time.time() - written))
        yield age


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR))


def exposition(state: Collector) -> bytes:
    """The metrics page: the server's own metrics (summed over the workers in multiprocess
    mode) and ``state``, read now."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in OWN:
            registry.register(collector)
    registry.register(state)
    return generate_latest(registry)
