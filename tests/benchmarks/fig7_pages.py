"""Figure 7: the plan page (``GET /web/plans/{id}``, HTML, with a session) of a 1,000-event plan
against its JSON (``GET /plans/{id}``, bearer token) in the same run, both through the app in
process (Starlette's test client: the same ASGI stack, middleware and access log, no socket), so
the ratio is what rendering the page adds to reading the plan. The goal: the page in the
same order of time as the JSON.

Each round times ``calls`` requests of each kind, alternating, after one untimed warm-up; the
value of a round is its median (p50); p99 is kept in ``extra``.
"""

from __future__ import annotations

import re
import statistics
import time
import warnings
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


def _timed(call: Any) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text[:300]
    return elapsed


def run(stores: Stores, *, rounds: int, calls: int) -> list[Figure]:
    url = stores.new_url("fig7")
    service = stores.open(url)
    runner = data.DirectRunner(service, data.SimulatedClock())
    plan_id = data.write_plan(runner, EVENTS, 7).plan_id
    assert plan_id is not None
    accounts = Accounts(
        recorder_of(service).engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024)
    )
    app = create_app(service, accounts=accounts)
    _, token = accounts.add_user(name="Bench Auditor", role="auditor")
    page_times: list[float] = []
    json_times: list[float] = []
    page_p99: list[float] = []
    json_p99: list[float] = []
    with TestClient(app) as client:
        form = client.get("/web/sign-in").text
        guard = re.search(r'name="guard" value="([^"]+)"', form)
        assert guard is not None
        signed = client.post(
            "/web/sign-in", data={"guard": guard.group(1), "token": token}, follow_redirects=False
        )
        assert signed.status_code == 303
        headers = {"Authorization": f"Bearer {token}"}

        def page() -> Any:
            return client.get(f"/web/plans/{plan_id}")

        def document() -> Any:
            return client.get(f"/plans/{plan_id}", headers=headers)

        page(), document()  # warm: first reads fill the service's caches for both
        for n in range(rounds):
            pages, documents = [], []
            for _ in range(calls):
                pages.append(_timed(page))
                documents.append(_timed(document))
            page_times.append(percentile(pages, 50))
            json_times.append(percentile(documents, 50))
            page_p99.append(percentile(pages, 99))
            json_p99.append(percentile(documents, 99))
            log(
                f"  fig7 round {n + 1}: page {page_times[-1]:.2f} ms, "
                f"JSON {json_times[-1]:.2f} ms p50"
            )
        profiled(
            f"fig7-{stores.backend}",
            lambda: [page() for _ in range(calls)],
            note=f"figure 7: {calls} plan pages of a {EVENTS:,}-event plan",
        )
        size = len(page().content)
    close_service(service)
    ratios = [p / j for p, j in zip(page_times, json_times, strict=True)]
    return [
        Figure(
            "7",
            f"plan page (HTML) of a {EVENTS:,}-event plan (p50)",
            stores.backend,
            "ms",
            page_times,
            "the same plan as JSON, GET /plans/{id} (p50)",
            "ms",
            json_times,
            ratios,
            "× JSON",
            "same order of time as the JSON (≤ 10×)",
            statistics.median(ratios) <= 10,
            f"page {size:,} bytes; both through the app in process, with the access log",
            {"page_p99_ms": page_p99, "json_p99_ms": json_p99, "events": EVENTS},
        )
    ]
