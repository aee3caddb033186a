"""Figure 2: the plan as of an instant (recorded axis) and as of an effective date (clinical
axis) on a 1,000-event plan, against reading the current plan (``load``) and against a full
replay without snapshots (every event decoded and folded); and how both grow at 100, 1,000 and
10,000 events per plan.

Each call asks for a different point of the plan's life (seeded, spread over the whole
history), so no answer is reused; the decoded snapshots the service keeps in memory are (as
they are for an auditor reading one plan at several dates), and a cold series empties them
before every call. The value of a round is the median (p50) latency of its calls; p99 is kept
in ``extra``.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from plantrail.domain.plan import PlanState, fold
from plantrail.domain.service import PlanService
from tests.benchmarks import data
from tests.benchmarks.harness import Figure, Stores, close_service, is_sqlite, log, percentile
from tests.benchmarks.profiling import profiled


def _timed(calls: list[Callable[[], Any]]) -> list[float]:
    out = []
    for call in calls:
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _cold(service: PlanService, plan_id: UUID, at: datetime) -> PlanState:
    service.decoded_snapshots.clear()
    return service.load_at(plan_id, as_of=at)


def run(stores: Stores, *, rounds: int, calls: int, sizes: list[int]) -> list[Figure]:
    url = stores.new_url("fig2")
    sqlite = is_sqlite(url)
    service = stores.open(url)
    plans = {}
    for size in sizes:
        runner = data.DirectRunner(service, data.SimulatedClock())
        script = data.write_plan(runner, size, 20 + size)
        plans[size] = script.plan_id
    figures: list[Figure] = []
    for size in sizes:
        plan_id = plans[size]
        assert plan_id is not None
        first = service.events_of(plan_id, lte=1)[0]
        last = service.load(plan_id)
        rng = random.Random(size)
        span = last.last_recorded_at - first.recorded_at
        instants = [first.recorded_at + span * rng.random() for _ in range(calls)]
        days = (last.last_recorded_at.date() - first.effective_date).days
        dates = [
            first.effective_date + timedelta(days=rng.randrange(days + 1)) for _ in range(calls)
        ]
        replay_calls = max(3, calls // 10) if size >= 10_000 else calls
        series: dict[str, list[float]] = {
            k: [] for k in ("as_of", "effective", "current", "replay", "as_of_cold")
        }
        p99: dict[str, list[float]] = {k: [] for k in series}

        def warm(
            p: UUID = plan_id, instants: list[datetime] = instants, dates: list[date] = dates
        ) -> None:
            """An untimed pass over the same points, so that each round starts with the
            decoded snapshots in memory, as the second read of a plan in a process does."""
            for t in instants:
                service.load_at(p, as_of=t)
            for d in dates:
                service.load_at(p, effective_on=d)

        warm()
        for n in range(rounds):
            measured = {
                "as_of": _timed(
                    [lambda t=t, p=plan_id: service.load_at(p, as_of=t) for t in instants]
                ),
                "effective": _timed(
                    [lambda d=d, p=plan_id: service.load_at(p, effective_on=d) for d in dates]
                ),
                "current": _timed([lambda p=plan_id: service.load(p)] * calls),
                "replay": _timed([lambda p=plan_id: fold(service.events_of(p))] * replay_calls),
                # The same instants with the decoded-snapshot cache emptied before each call:
                # what the first read of a plan in a process costs.
                "as_of_cold": _timed(
                    [lambda t=t, p=plan_id: _cold(service, p, t) for t in instants]
                ),
            }
            warm()
            for key, values in measured.items():
                series[key].append(percentile(values, 50))
                p99[key].append(percentile(values, 99))
            log(
                f"  fig2 {size} events, round {n + 1}: as_of {series['as_of'][-1]:.2f} ms "
                f"(cold {series['as_of_cold'][-1]:.2f}), "
                f"effective {series['effective'][-1]:.2f} ms, current "
                f"{series['current'][-1]:.2f} ms, replay {series['replay'][-1]:.1f} ms"
            )
        if size == 1000:

            def reads(p: Any = plan_id, ds: Any = dates, ts: Any = instants) -> None:
                for d in ds:
                    service.load_at(p, effective_on=d)
                for t in ts:
                    service.load_at(p, as_of=t)

            profiled(
                f"fig2-{stores.backend}",
                reads,
                note=f"figure 2: {calls} reads as of an effective date, then {calls} as "
                "of an instant, 1,000-event plan, decoded snapshots warm",
            )
        for key, label in (("as_of", "as of an instant"), ("effective", "as of an effective date")):
            values = series[key]
            vs_current = [a / b for a, b in zip(values, series["current"], strict=True)]
            vs_replay = [b / a for a, b in zip(values, series["replay"], strict=True)]
            headline = size == 1000
            p50 = statistics.median(values)
            met = None
            goal = "≤ 3× current" + (", ≤ 2 ms p50" if sqlite else "")
            if headline:
                met = statistics.median(vs_current) <= 3 and (not sqlite or p50 <= 2)
            elif size != 1000:
                goal = "flat with size"
            figures.append(
                Figure(
                    "2" if headline else "2g",
                    f"plan {label}, {size:,}-event plan (p50)",
                    stores.backend,
                    "ms",
                    values,
                    "current plan, load() (p50)",
                    "ms",
                    series["current"],
                    vs_current,
                    "× current",
                    goal,
                    met,
                    f"full replay without snapshots: {statistics.median(series['replay']):.2f} "
                    f"ms p50, so {statistics.median(vs_replay):.1f}× faster than replay"
                    + (
                        f"; cold (no decoded snapshot in memory): "
                        f"{statistics.median(series['as_of_cold']):.2f} ms p50"
                        if key == "as_of"
                        else ""
                    ),
                    {
                        "cold_p50_ms": series["as_of_cold"] if key == "as_of" else None,
                        "p99_ms": p99[key],
                        "replay_ms": series["replay"],
                        "times_faster_than_replay": vs_replay,
                        "events": size,
                    },
                )
            )
    close_service(service)
    return figures
