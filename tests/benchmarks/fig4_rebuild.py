"""Figure 4: a full projection rebuild (``plantrail.projections.caseload.rebuild``) over a
generated caseload, in events/s, against a raw sequential read of the event table (the raw
driver fetching every row in id order); growth over caseload sizes (plans are about 100 events
each, so 10,000 plans are about 1 M events), and the rebuild's peak memory (tracemalloc, in one
extra untimed run at the largest size).

From 1,000 plans the rebuild computes half of each batch of rows in a helper process
(``caseload.HELPER_MIN_PLANS``): tracemalloc sees only this process, so the helper's own peak
(its maximum resident set, from ``getrusage(RUSAGE_CHILDREN)``) is reported beside it.

Line 4u is the same rebuild once more with nothing remembered across plans (the fingerprint
and DeepDiff-explanation caches off): the caseload is copies of a few template plans, so those
caches hit more often than on plans all worded differently.

A proxy is measured as well: the per-plan read path without the row computation, i.e. for
every plan ``events_of`` (one query, decode and upcast every event) and ``fold``. It was the
upper bound of the rebuild before the rebuild read its plans in batches; it stays as the
reference of what reading one plan at a time costs.
"""

from __future__ import annotations

import functools
import importlib.util
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from plantrail.domain.plan import fold
from plantrail.domain.service import PlanService
from tests.benchmarks import data
from tests.benchmarks.harness import (
    Figure,
    Stores,
    close_service,
    log,
    recorder,
)
from tests.benchmarks.profiling import profiled

TEMPLATES = 8
EVENTS_PER_PLAN = 100
GOAL = 30_000


def rebuild_available() -> str | None:
    """Why the real rebuild cannot run here, or None when it can."""
    for module in ("plantrail.projections.caseload",):
        if importlib.util.find_spec(module) is None:
            return f"no module {module} (caseload.rebuild is in progress)"
    return None


def _rebuild(service: PlanService) -> None:
    from plantrail.projections import caseload

    store = recorder(service)
    caseload.metadata.create_all(store.engine)
    caseload.rebuild(service, store)


def _proxy(service: PlanService) -> None:
    store = recorder(service)
    for plan_id in store.plan_ids():
        fold(service.events_of(plan_id))


def _raw_read(stores: Stores, url: str) -> int:
    conn = stores.raw_connect(url)
    # On PostgreSQL a server-side cursor: a client-side one holds the whole result in libpq's
    # memory (1 GB at 1 M events), which at 100,000 plans would not fit.
    cur = conn.cursor(name="fig4_raw_read") if stores.backend == "postgresql" else conn.cursor()
    cur.execute(
        "SELECT id, originator_id, originator_version, topic, state "
        "FROM plantrail_events ORDER BY id"
    )
    rows = 0
    while True:
        batch = cur.fetchmany(5000)
        if not batch:
            break
        rows += len(batch)
    cur.close()
    conn.close()
    return rows


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _peak_mb(call: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _rebuild_uncached(service: PlanService) -> None:
    """The rebuild with nothing remembered across plans: the caseload is copies of a few
    template plans, so the fingerprint and DeepDiff-explanation caches hit far more often
    than on a caseload of plans all worded differently. This bounds that flattery."""
    from plantrail.projections import copy_forward as cf

    remembered = cf._explained_bytes
    cf._fingerprint.cache_clear()
    cf._explained_bytes = remembered.__wrapped__  # type: ignore[assignment]
    try:
        _rebuild(service)
    finally:
        cf._explained_bytes = remembered
        cf._fingerprint.cache_clear()


def run(stores: Stores, *, rounds: int, sizes: list[int]) -> list[Figure]:
    missing = rebuild_available()
    figures: list[Figure] = []
    for index, plans in enumerate(sizes):
        url = stores.new_url(f"fig4_{plans}")
        service = stores.open(url)
        made = data.templates(service, min(TEMPLATES, plans), EVENTS_PER_PLAN)
        started = time.perf_counter()
        data.replicate_caseload(service, made, max(0, plans - len(made)))
        total = _raw_read(stores, url)
        log(
            f"  fig4 caseload of {plans:,} plans, {total:,} events, "
            f"generated in {time.perf_counter() - started:.1f} s"
        )
        largest = index == len(sizes) - 1
        kinds = [("proxy", _proxy)] + (
            [] if missing else [("rebuild", _rebuild), ("uncached", _rebuild_uncached)]
        )
        for kind, call in kinds:
            values: list[float] = []
            raw: list[float] = []
            for n in range(1 if kind == "uncached" else rounds):
                values.append(total / _timed(lambda c=call, s=service: c(s)))
                raw.append(total / _timed(lambda u=url: _raw_read(stores, u)))
                log(
                    f"  fig4 {kind} {plans:,} plans, round {n + 1}: {values[-1]:,.0f} events/s, "
                    f"raw read {raw[-1]:,.0f} rows/s"
                )
            if largest and kind == "rebuild":
                profiled(
                    f"fig4-{stores.backend}",
                    functools.partial(call, service),
                    note=f"figure 4: full rebuild of {plans:,} plans, {total:,} events "
                    "(a forked helper's share shows as waiting)",
                )
            extra: dict[str, Any] = {"plans": plans, "events": total}
            notes = f"{plans:,} plans, {total:,} events"
            if largest and kind != "uncached":
                peak = _peak_mb(lambda c=call, s=service: c(s))
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                extra.update(peak_traced_mb=peak, process_max_rss_mb=rss, helper_max_rss_mb=helper)
                notes += (
                    f"; peak traced memory {peak:,.1f} MB (process max RSS {rss:,.0f} MB, "
                    f"largest child process max RSS {helper:,.0f} MB)"
                )
            title = {
                "rebuild": "full projection rebuild (caseload.rebuild)",
                "uncached": "full projection rebuild, nothing remembered across plans (1 round)",
                "proxy": "rebuild proxy: events_of + fold of every plan (no read-model rows)",
            }[kind]
            figure = Figure(
                {"rebuild": "4", "uncached": "4u", "proxy": "4p"}[kind],
                f"{title}, {plans:,} plans",
                stores.backend,
                "events/s",
                values,
                "raw sequential read of the event table",
                "rows/s",
                raw,
                [v / r for v, r in zip(values, raw, strict=True)],
                "× raw read",
                {
                    "rebuild": f"≥ {GOAL:,} events/s",
                    "uncached": "reference",
                    "proxy": "reference (per-plan reads)",
                }[kind],
                None,
                notes,
                extra,
            )
            if kind == "rebuild":
                figure.met = (figure.median or 0) >= GOAL
            figures.append(figure)
        if missing:
            figures.append(
                Figure(
                    "4",
                    f"full projection rebuild, {plans:,} plans",
                    stores.backend,
                    "",
                    [],
                    notes=f"not measured: {missing}",
                )
            )
        close_service(service)
    return figures
