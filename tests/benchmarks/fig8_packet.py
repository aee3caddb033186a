"""Figure 8: the audit packet (``GET /plans/{id}/packet``, PDF) for a year of a 1,000-event plan
against the same plan's JSON views an auditor would otherwise fetch, in the same run: the plan,
its revisions, its reviews, its findings for the same period and its events. Both through the
app in process (Starlette's test client: the same middleware, authentication and access log,
no socket), so the ratio is what building and laying out the packet adds to reading the same
facts as JSON. The goal: a packet for a year of a 1,000-event plan in under a few
seconds (3 s).

Each round times ``calls`` packets, each followed by one set of the five JSON views, after one
untimed warm-up; the value of a round is its median (p50).
"""

from __future__ import annotations

import statistics
import time
import warnings
from datetime import date
from typing import Any

from argon2 import PasswordHasher

from plantrail.api.server.app import create_app
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.assembly import recorder_of
from tests.benchmarks import data
from tests.benchmarks.harness import Figure, Stores, close_service, log, percentile
from tests.benchmarks.profiling import profiled

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's test client asks for an optional package
    from fastapi.testclient import TestClient

EVENTS = 1000
PERIOD = {"from": date(2025, 9, 1).isoformat(), "to": date(2026, 8, 31).isoformat()}
"""A year: the benchmark plan's events span 320 days from 2025-09-01 (``data.SPAN``)."""
GOAL_MS = 3000.0


def run(stores: Stores, *, rounds: int, calls: int) -> list[Figure]:
    url = stores.new_url("fig8")
    service = stores.open(url)
    runner = data.DirectRunner(service, data.SimulatedClock())
    plan_id = data.write_plan(runner, EVENTS, 8).plan_id
    assert plan_id is not None
    accounts = Accounts(
        recorder_of(service).engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024)
    )
    app = create_app(service, accounts=accounts)
    _, token = accounts.add_user(name="Bench Auditor", role="auditor")
    headers = {"Authorization": f"Bearer {token}"}
    views = [
        (f"/plans/{plan_id}", {}),
        (f"/plans/{plan_id}/revisions", {}),
        (f"/plans/{plan_id}/reviews", {}),
        (f"/plans/{plan_id}/findings", PERIOD),
        (f"/plans/{plan_id}/events", {}),
    ]
    packet_times: list[float] = []
    json_times: list[float] = []
    with TestClient(app) as client:

        def packet() -> int:
            response = client.get(f"/plans/{plan_id}/packet", params=PERIOD, headers=headers)
            assert response.status_code == 200, response.text[:300]
            assert response.headers["content-type"] == "application/pdf"
            return len(response.content)

        def as_json() -> int:
            size = 0
            for path, params in views:
                response = client.get(path, params=params, headers=headers)
                assert response.status_code == 200, response.text[:300]
                size += len(response.content)
            return size

        def timed(call: Any) -> float:
            started = time.perf_counter()
            call()
            return (time.perf_counter() - started) * 1000

        pdf_size, json_size = packet(), as_json()  # warm: both fill the service's caches
        for n in range(rounds):
            packets, documents = [], []
            for _ in range(calls):
                packets.append(timed(packet))
                documents.append(timed(as_json))
            packet_times.append(percentile(packets, 50))
            json_times.append(percentile(documents, 50))
            log(
                f"  fig8 round {n + 1}: packet {packet_times[-1]:.0f} ms, "
                f"JSON views {json_times[-1]:.0f} ms p50"
            )
        profiled(
            f"fig8-{stores.backend}",
            lambda: [packet() for _ in range(calls)],
            note=f"figure 8: {calls} packets for a year of a {EVENTS:,}-event plan",
        )
    close_service(service)
    ratios = [p / j for p, j in zip(packet_times, json_times, strict=True)]
    return [
        Figure(
            "8",
            f"audit packet (PDF) for a year of a {EVENTS:,}-event plan (p50)",
            stores.backend,
            "ms",
            packet_times,
            "the same plan's JSON views: plan, revisions, reviews, period findings, events (p50)",
            "ms",
            json_times,
            ratios,
            "× JSON views",
            "under a few seconds (≤ 3 s)",
            statistics.median(packet_times) <= GOAL_MS,
            f"PDF {pdf_size:,} bytes, JSON views {json_size:,} bytes; both through the app "
            "in process, with the access log",
            {"events": EVENTS, "period": PERIOD},
        )
    ]
