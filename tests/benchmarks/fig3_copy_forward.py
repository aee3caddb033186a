"""Figure 3: the copy-forward verdict of one review
(``plantrail.projections.copy_forward.copy_forward_verdict``) on a plan of about 18 KB of JSON,
against DeepDiff alone on the same two plan states (their ``model_dump(mode="json")``, prepared
outside the timing); and how the verdict grows at 100, 1,000 and 10,000 events per plan.

Two reviews are measured: one that follows a revision (``updated``: DeepDiff explains the
changed items) and one that changes nothing (``copied_forward``). The verdict is timed cold: the
per-item fingerprint cache is emptied before every call, so nothing is reused from an earlier
call on the same states (a caseload report reuses the previous review's fingerprints; that
warm figure is kept in ``extra``). The verdict is pure computation on two loaded states, so its
figure is the same on both stores; it is reported on each for completeness.
"""

from __future__ import annotations

import itertools
import statistics
import time
from typing import Any
from uuid import UUID

import orjson

from plantrail.domain.plan import PlanState
from plantrail.domain.service import PlanService
from tests.benchmarks import data
from tests.benchmarks.harness import Figure, Stores, close_service, log, percentile, unavailable
from tests.benchmarks.profiling import profiled

TARGET_BYTES = 18_443
"""The plan JSON size of the DeepDiff baseline in perf-baselines.md."""


def _pairs(service: PlanService, plan_id: UUID, reviews: list[int]) -> list[dict[str, Any]]:
    """(previous review state, this review state) for every review after the first."""
    out = []
    states = [service.load(plan_id, v) for v in reviews]
    for before, after in itertools.pairwise(states):
        summary = {r.completed_version: r.progress_summary for r in after.reviews.values()}
        out.append(
            {
                "previous": before,
                "current": after,
                "previous_summary": summary.get(before.version),
                "current_summary": summary.get(after.version),
                "bytes": len(orjson.dumps(after.model_dump(mode="json"))),
            }
        )
    return out


def _verdict_ms(pair: dict[str, Any], calls: int, *, cold: bool) -> tuple[list[float], str]:
    from plantrail.projections import copy_forward as cf
    from plantrail.projections import near_copy

    times = []
    verdict = ""
    for _ in range(calls):
        # An explanation is of one (before, after) pair, so a real review never finds its own
        # in the cache: it is emptied for the warm series too.
        cf._explained_bytes.cache_clear()
        cf._fingerprint.cache_clear()
        near_copy.statement_edit.cache_clear()  # the word alignments of detector 2
        near_copy.summary_similarity.cache_clear()
        if not cold:
            cf.plan_language(pair["previous"])  # what the previous review already fingerprinted
        started = time.perf_counter()
        result = cf.copy_forward_verdict(
            pair["previous"],
            pair["current"],
            pair["previous_summary"],
            pair["current_summary"],
            0,
        )
        times.append((time.perf_counter() - started) * 1000)
        verdict = result["verdict"]
    return times, verdict


def _deepdiff_ms(previous: PlanState, current: PlanState, calls: int) -> list[float]:
    from deepdiff import DeepDiff

    before = previous.model_dump(mode="json")
    after = current.model_dump(mode="json")
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        DeepDiff(before, after)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _figure(
    number: str,
    title: str,
    backend: str,
    pair: dict[str, Any],
    rounds: int,
    calls: int,
    dd_calls: int,
    goal: bool,
) -> Figure:
    verdict: list[float] = []
    warm: list[float] = []
    deepdiff: list[float] = []
    kind = ""
    for n in range(rounds):
        cold_times, kind = _verdict_ms(pair, calls, cold=True)
        warm_times, _ = _verdict_ms(pair, calls, cold=False)
        verdict.append(percentile(cold_times, 50))
        warm.append(percentile(warm_times, 50))
        deepdiff.append(percentile(_deepdiff_ms(pair["previous"], pair["current"], dd_calls), 50))
        log(
            f"  fig3 {title}, round {n + 1}: verdict {verdict[-1]:.2f} ms (warm {warm[-1]:.2f}),"
            f" DeepDiff {deepdiff[-1]:.1f} ms"
        )
    if goal:
        profiled(
            f"fig3-{kind}-{backend}",
            lambda: _verdict_ms(pair, calls, cold=True),
            note=f"figure 3: {calls} cold verdicts of a {kind} review, {title}",
        )
    faster = [d / v for v, d in zip(verdict, deepdiff, strict=True)]
    figure = Figure(
        number,
        f"copy-forward verdict, {kind} review, {title} (p50, cold cache)",
        backend,
        "ms",
        verdict,
        "DeepDiff alone on the same two states (p50)",
        "ms",
        deepdiff,
        faster,
        "× faster",
        "≥ 15× faster, ≤ 2 ms p50" if goal else "flat with size",
        None,
        f"plan JSON {pair['bytes']:,} B; warm (previous review's fingerprints cached): "
        f"{statistics.median(warm):.2f} ms",
        {"warm_ms": warm, "plan_json_bytes": pair["bytes"], "verdict": kind},
    )
    if goal:
        figure.met = (figure.ratio or 0) >= 15 and (figure.median or 99) <= 2
    return figure


def run(stores: Stores, *, rounds: int, calls: int, sizes: list[int]) -> list[Figure]:
    try:
        from plantrail.projections.copy_forward import copy_forward_verdict  # noqa: F401
    except ImportError:
        return [
            unavailable(
                "3",
                "copy-forward verdict",
                stores.backend,
                "plantrail.projections.copy_forward is not in this tree",
            )
        ]
    url = stores.new_url("fig3")
    service = stores.open(url)
    figures: list[Figure] = []
    # The headline: reviews of a plan around 18 KB, one updated, one nearly copied forward (when
    # the generated history has one) and one copied forward.
    script = data.write_plan(
        data.DirectRunner(service, data.SimulatedClock()), 90, 3, review_every=5
    )
    assert script.plan_id is not None
    pairs = _pairs(service, script.plan_id, script.reviews)
    from plantrail.projections.copy_forward import copy_forward_verdict as verdict_of

    def kind(pair: dict[str, Any]) -> str:
        return str(verdict_of(pair["previous"], pair["current"], None, None, 0)["verdict"])

    for wanted in ("updated", "nearly_copied_forward", "copied_forward"):
        candidates = [p for p in pairs if kind(p) == wanted]
        if not candidates:
            continue
        pair = min(candidates, key=lambda p: abs(p["bytes"] - TARGET_BYTES))
        figures.append(
            _figure(
                "3",
                "~18 KB plan",
                stores.backend,
                pair,
                rounds,
                calls,
                max(3, calls // 5),
                goal=True,
            )
        )
    for size in sizes:
        grown = data.write_plan(
            data.DirectRunner(service, data.SimulatedClock()), size, 300 + size, review_every=20
        )
        assert grown.plan_id is not None
        # The last updated review (reviews alternate updated / copied forward), so that
        # every size compares the same kind of verdict.
        last = next(
            p
            for p in reversed(_pairs(service, grown.plan_id, grown.reviews[-3:]))
            if kind(p) == "updated"
        )
        dd_calls = 1 if size >= 10_000 else (2 if size >= 1000 else 5)
        figures.append(
            _figure(
                "3g",
                f"{size:,}-event plan",
                stores.backend,
                last,
                max(1, rounds if size < 10_000 else min(rounds, 3)),
                calls,
                dd_calls,
                goal=False,
            )
        )
    close_service(service)
    return figures
