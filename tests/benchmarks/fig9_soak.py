"""Figure 9: a soak. One plantrail server process (the figure 6 server: one
uvicorn worker pinned to CPU 0) under a steady mixed load for ``--soak MINUTES``, sampled
every interval for its memory (``VmRSS`` of ``/proc/PID/status``) and the p99 of the reads and
writes finished in that interval.

The load (this process, pinned to CPU 1, raw asyncio on keep-alive connections):

- 20 reader connections in a closed loop, ``GET /plans/{id}`` alternating over two plans;
- one writer connection recording a measurement (``POST /plans/{id}/measurements``) at a
  fixed rate (``WRITES_PER_SECOND``), alternating over the same plans, so that every read
  after a write meets a new version (no rendering is kept across a version change).

Every request authenticates, is authorised and waits for its durable access-log row, as in
production. The baseline of each line is the soak's own first interval in the same run: the
ratio is the last interval against the first. The verdict on growth compares the RSS of the
last quarter of the intervals with the first quarter after the first interval (warm-up), and
fits a line (MB per minute) over the second half.

Writes make the plans longer (a measurement is kept in the plan state), so a little RSS
growth is expected: the note gives the events written, for scale.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tests.benchmarks import data
from tests.benchmarks.fig6_http import _free_port, _start, exchange
from tests.benchmarks.harness import Figure, Stores, close_service, log, percentile, recorder

READERS = 20
WRITES_PER_SECOND = 5.0
RSS_GROWTH_GOAL = 0.10
"""At most 10 % more RSS in the last quarter than in the first (after warm-up)."""
P99_GOAL_MS = 25.0


def rss_kb(pid: int) -> int | None:
    """The resident set size of process ``pid`` in kB (Linux), or None where unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class _Window:
    """What finished in the current interval."""

    def __init__(self) -> None:
        self.reads: list[float] = []
        self.writes: list[float] = []
        self.errors: dict[int, int] = {}

    def done(self, kind: str, started: float, status: int) -> None:
        (self.reads if kind == "read" else self.writes).append(time.perf_counter() - started)
        if status >= 400:
            self.errors[status] = self.errors.get(status, 0) + 1


def _get(path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()


def _post(path: str, token: str, body: dict[str, Any]) -> bytes:
    payload = orjson.dumps(body)
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode() + payload


async def _soak(
    port: int, plans: list[str], token: str, seconds: float, interval: float, pid: int
) -> list[dict[str, Any]]:
    window = _Window()
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()
    deadline = started + seconds
    reads = [_get(f"/plans/{p}", token) for p in plans]

    async def read_loop(n: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            i = n
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                status = await exchange(reader, writer, reads[i % len(reads)])
                window.done("read", t, status)
                i += 1
        finally:
            writer.close()

    async def write_loop() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        today = datetime.now(UTC).date().isoformat()
        try:
            i = 0
            while time.perf_counter() < deadline:
                due = started + i / WRITES_PER_SECOND
                if due > time.perf_counter():
                    await asyncio.sleep(due - time.perf_counter())
                body = {"instrument": "PHQ-9", "score": i % 28, "administered_on": today}
                request = _post(f"/plans/{plans[i % len(plans)]}/measurements", token, body)
                t = time.perf_counter()
                status = await exchange(reader, writer, request)
                window.done("write", t, status)
                i += 1
        finally:
            writer.close()

    async def sampler() -> None:
        nonlocal window
        n = 1
        while True:
            await asyncio.sleep(max(0.0, started + n * interval - time.perf_counter()))
            done, window = window, _Window()
            samples.append(
                {
                    "at_s": round(time.perf_counter() - started, 1),
                    "rss_mb": (rss_kb(pid) or 0) / 1024,
                    "reads": len(done.reads),
                    "writes": len(done.writes),
                    "read_rps": len(done.reads) / interval,
                    "read_p50_ms": percentile(done.reads, 50) * 1000 if done.reads else None,
                    "read_p99_ms": percentile(done.reads, 99) * 1000 if done.reads else None,
                    "write_p99_ms": percentile(done.writes, 99) * 1000 if done.writes else None,
                    "errors": done.errors,
                }
            )
            s = samples[-1]
            log(
                f"  soak {s['at_s']:>6.0f} s: RSS {s['rss_mb']:.1f} MB, "
                f"{s['read_rps']:,.0f} reads/s, read p99 {s['read_p99_ms'] or 0:.1f} ms, "
                f"write p99 {s['write_p99_ms'] or 0:.1f} ms, errors {s['errors'] or 'none'}"
            )
            n += 1
            if started + n * interval > deadline + interval / 2:
                return

    await asyncio.gather(*(read_loop(n) for n in range(READERS)), write_loop(), sampler())
    return samples


def soak(
    port: int, plans: list[str], token: str, seconds: float, interval: float, pid: int
) -> list[dict[str, Any]]:
    try:
        import uvloop

        return uvloop.run(_soak(port, plans, token, seconds, interval, pid))
    except ImportError:
        return asyncio.run(_soak(port, plans, token, seconds, interval, pid))


def verdict(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Growth of RSS and p99 over the soak (the first interval is warm-up)."""
    steady = samples[1:] if len(samples) > 2 else samples
    quarter = max(1, len(steady) // 4)
    first = statistics.median(s["rss_mb"] for s in steady[:quarter])
    last = statistics.median(s["rss_mb"] for s in steady[-quarter:])
    half = steady[len(steady) // 2 :]
    slope = 0.0
    if len(half) >= 2:
        xs = [s["at_s"] / 60 for s in half]
        ys = [s["rss_mb"] for s in half]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        var = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0
    p99 = [s["read_p99_ms"] for s in steady if s["read_p99_ms"] is not None]
    p99_first = statistics.median(p99[:quarter]) if p99 else 0.0
    p99_last = statistics.median(p99[-quarter:]) if p99 else 0.0
    growth = (last - first) / first if first else 0.0
    errors = sum(sum(s["errors"].values()) for s in samples)
    return {
        "rss_first_mb": first,
        "rss_last_mb": last,
        "rss_growth": growth,
        "rss_slope_mb_per_min": slope,
        "p99_first_ms": p99_first,
        "p99_last_ms": p99_last,
        "errors": errors,
        "flat": growth <= RSS_GROWTH_GOAL,
        "p99_median_ms": statistics.median(p99) if p99 else 0.0,
        "p99_max_ms": max(p99) if p99 else 0.0,
        "p99_met": bool(p99) and statistics.median(p99) <= P99_GOAL_MS,
    }


def table(samples: list[dict[str, Any]]) -> str:
    rows = [
        "| at s | RSS MB | reads/s | read p50 ms | read p99 ms | writes | write p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in samples:
        rows.append(
            f"| {s['at_s']:.0f} | {s['rss_mb']:.1f} | {s['read_rps']:,.0f} | "
            f"{s['read_p50_ms'] or 0:.1f} | {s['read_p99_ms'] or 0:.1f} | {s['writes']} | "
            f"{s['write_p99_ms'] or 0:.1f} | {sum(s['errors'].values()) or ''} |"
        )
    return "\n".join(rows)


def run(stores: Stores, *, minutes: float) -> list[Figure]:
    seconds = minutes * 60
    interval = max(5.0, seconds / 20)
    url = stores.new_url("fig9")
    service = stores.open(url)
    # Seeds 6 and 9 share a clinician (data.CLINICIANS), so one token reaches both plans.
    scripts = [
        data.write_plan(data.DirectRunner(service, data.SimulatedClock()), 40, seed, 10)
        for seed in (6, 9)
    ]
    plans = [str(s.plan_id) for s in scripts]
    original = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    server = None
    try:
        from plantrail.projections.access.accounts import Accounts

        accounts = Accounts(recorder(service).engine)
        accounts.create_tables()
        actor = scripts[0].actor
        _, token = accounts.add_user(
            name=actor.name, role="clinician", user_id=actor.user_id, credentials=actor.credentials
        )
        port = _free_port()
        server = _start(["--mode", "plantrail", "--url", url, "--keys", str(stores.key_dir)], port)
        if original is not None and len(original) > 1:
            os.sched_setaffinity(0, {1})
        log(
            f"  soak: {minutes:g} min, {READERS} reader connections, "
            f"{WRITES_PER_SECOND:g} writes/s, sampled every {interval:g} s (server pid "
            f"{server.pid})"
        )
        samples = soak(port, plans, token, seconds, interval, server.pid)
    finally:
        if original is not None:
            os.sched_setaffinity(0, original)
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        close_service(service)
    v = verdict(samples)
    writes = sum(s["writes"] for s in samples)
    print(f"\nfigure 9 soak on {stores.backend}, {minutes:g} min:\n\n{table(samples)}\n")
    words = (
        f"RSS {v['rss_first_mb']:.1f} → {v['rss_last_mb']:.1f} MB "
        f"({v['rss_growth']:+.1%}; {v['rss_slope_mb_per_min']:+.2f} MB/min over the second "
        f"half): {'flat' if v['flat'] else 'GROWING'}; read p99 {v['p99_first_ms']:.1f} → "
        f"{v['p99_last_ms']:.1f} ms (median of intervals {v['p99_median_ms']:.1f}, worst "
        f"{v['p99_max_ms']:.1f}); {writes:,} measurements written "
        f"({(v['rss_last_mb'] - v['rss_first_mb']) * 1000 / max(writes, 1):.1f} kB of RSS each); "
        f"{v['errors']} error responses; {len(samples)} intervals of {interval:g} s"
    )
    log(f"  soak verdict: {words}")
    steady = samples[1:] if len(samples) > 2 else samples
    rss = Figure(
        "9",
        f"soak {minutes:g} min, mixed load: server RSS per interval",
        stores.backend,
        "MB",
        [s["rss_mb"] for s in steady],
        "the same soak's first interval after warm-up (same run)",
        "MB",
        [steady[0]["rss_mb"]],
        [steady[-1]["rss_mb"] / steady[0]["rss_mb"]] if steady[0]["rss_mb"] else [],
        "× start",
        f"RSS ≤ +{RSS_GROWTH_GOAL:.0%} over the soak, no errors",
        v["flat"] and v["errors"] == 0,
        words,
        {"samples": samples, "verdict": v},
    )
    p99 = [s["read_p99_ms"] for s in steady if s["read_p99_ms"] is not None]
    latency = Figure(
        "9l",
        f"soak {minutes:g} min, mixed load: read p99 per interval",
        stores.backend,
        "ms",
        p99,
        "the same soak's first interval after warm-up (same run)",
        "ms",
        p99[:1],
        [p99[-1] / p99[0]] if p99 and p99[0] else [],
        "× start",
        f"median interval p99 ≤ {P99_GOAL_MS:g} ms",
        v["p99_met"],
        f"{READERS} reader connections and {WRITES_PER_SECOND:g} writes/s",
    )
    return [rss, latency]
