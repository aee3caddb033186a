"""Figure 11: an authoring-form submission (``POST /web/plans/{id}/write/{key}``, a session,
CSRF token, answered 303) against the same command sent as JSON (bearer token, If-Match and
Idempotency-Key headers) in the same run, both through the app in process (Starlette's test
client: the same ASGI stack, middleware and access log, no socket), on a plan of a few hundred
events written by its clinician, who is the one signed in. Both sides store the same one
event, so the ratio is what the form path adds: reading the form, the CSRF check, reading the
plan for the form and the 303. The redirect is not followed. The goal: ≤ 1.5× the JSON.

Two pairs: note a strength (``add-strength`` against ``POST /plans/{id}/strengths``), and,
as line 11r, revise an intervention with a rationale (``revise-intervention`` against
``PATCH /plans/{id}/interventions/{item}``). Each round times ``calls`` submissions of each
kind, alternating, after one untimed warm-up of each; the value of a round is its p95, the
p50 is kept in ``extra``.
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
import warnings
from collections.abc import Callable
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

EVENTS = 300
SEED = 11
GOAL = 1.5
TECHNIQUES = (
    "Behavioural activation with weekly activity scheduling, reviewed in session",
    "Behavioural activation with a daily activity diary, reviewed in session",
)


def _timed(call: Callable[[], Any], status: int) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == status, (response.status_code, response.text[:300])
    return elapsed


class _Pair:
    """One form and its JSON twin; the timings of every round."""

    def __init__(self, form: Callable[[], Any], document: Callable[[], Any], status: int) -> None:
        self.form = form
        self.document = document
        self.status = status
        self.form_p95: list[float] = []
        self.json_p95: list[float] = []
        self.form_p50: list[float] = []
        self.json_p50: list[float] = []

    def round(self, calls: int) -> None:
        forms, documents = [], []
        for _ in range(calls):
            forms.append(_timed(self.form, 303))
            documents.append(_timed(self.document, self.status))
        self.form_p95.append(percentile(forms, 95))
        self.json_p95.append(percentile(documents, 95))
        self.form_p50.append(percentile(forms, 50))
        self.json_p50.append(percentile(documents, 50))


def run(stores: Stores, *, rounds: int, calls: int) -> list[Figure]:
    url = stores.new_url("fig11")
    service = stores.open(url)
    script = data.write_plan(data.DirectRunner(service, data.SimulatedClock()), EVENTS, SEED)
    plan_id = script.plan_id
    assert plan_id is not None
    intervention = script.ids["i0"]
    modality, _, frequency = data.INTERVENTIONS[SEED % len(data.INTERVENTIONS)]  # i0's, kept
    serves = [script.ids["o0"], script.ids["o1"]]  # as the form shows them, unchanged
    accounts = Accounts(
        recorder_of(service).engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024)
    )
    app = create_app(service, accounts=accounts)
    actor = script.actor  # the plan's clinician: the plan is in their caseload
    _, token = accounts.add_user(
        name=actor.name, role="clinician", user_id=actor.user_id, credentials=actor.credentials
    )
    headers = {"Authorization": f"Bearer {token}"}
    version = script.version
    n = 0

    def unique() -> str:
        nonlocal n
        n += 1
        return f"fig11-{n}-{uuid.uuid4().hex[:12]}"

    with TestClient(app) as client:
        form = client.get("/web/sign-in").text
        guard = re.search(r'name="guard" value="([^"]+)"', form)
        assert guard is not None
        signed = client.post(
            "/web/sign-in", data={"guard": guard.group(1), "token": token}, follow_redirects=False
        )
        assert signed.status_code == 303
        opened = client.get(f"/web/plans/{plan_id}/write/add-strength")
        assert opened.status_code == 200, opened.text[:300]
        found = re.search(r'name="csrf_token" value="([^"]+)"', opened.text)
        assert found is not None
        csrf = found.group(1)
        today = service.clock().date().isoformat()
        active = [client]

        def submitted(key: str, fields: dict[str, str | list[str]], item: str | None = None) -> Any:
            nonlocal version
            response = active[0].post(
                f"/web/plans/{plan_id}/write/{key}" + (f"?item={item}" if item else ""),
                data={"csrf_token": csrf, "form_id": unique(), "version": str(version), **fields},
                follow_redirects=False,
            )
            if response.status_code == 303:
                version += 1  # one event a submission
            return response

        def sent(method: str, path: str, body: dict[str, Any]) -> Any:
            nonlocal version
            response = active[0].request(
                method,
                f"/plans/{plan_id}/{path}",
                json=body,
                headers={**headers, "If-Match": f'"{version}"', "Idempotency-Key": unique()},
            )
            if response.status_code in (200, 201):
                version = int(response.headers["ETag"].strip('"'))
            return response

        def strength_form() -> Any:
            return submitted("add-strength", {"text": f"Walks the dog twice a day ({n})."})

        def strength_json() -> Any:
            return sent("POST", "strengths", {"text": f"Walks the dog twice a day ({n})."})

        def revision_form() -> Any:
            return submitted(
                "revise-intervention",
                {
                    "modality": modality,
                    "technique": TECHNIQUES[n % 2],
                    "frequency": frequency,
                    "objective_ids": serves,
                    "status": "",
                    "rationale": "Adjusted with the client at this session.",
                    "entry_kind": "original",
                    "effective_date": today,
                },
                item=intervention,
            )

        def revision_json() -> Any:
            return sent(
                "PATCH",
                f"interventions/{intervention}",
                {
                    "technique": TECHNIQUES[n % 2],
                    "rationale": "Adjusted with the client at this session.",
                },
            )

        pairs = {
            "strength": _Pair(strength_form, strength_json, 201),
            "revision": _Pair(revision_form, revision_json, 200),
        }
        for pair in pairs.values():  # warm: the first of each fills the caches for both
            _timed(pair.form, 303), _timed(pair.document, pair.status)
        for r in range(rounds):
            for name, pair in pairs.items():
                pair.round(calls)
                log(
                    f"  fig11 round {r + 1} {name}: form {pair.form_p95[-1]:.2f} ms, "
                    f"JSON {pair.json_p95[-1]:.2f} ms p95 "
                    f"(p50 {pair.form_p50[-1]:.2f} / {pair.json_p50[-1]:.2f})"
                )
        # The profiled runs go through a client that starts its event loop (and so its worker
        # threads) per request, inside the profiler: the server side is in the report too.
        active[0] = TestClient(app, cookies=client.cookies)
        for label, call, what in (
            ("fig11", strength_form, "add-strength form submissions"),
            ("fig11-json", strength_json, "POST /plans/{id}/strengths"),
            ("fig11r", revision_form, "revise-intervention form submissions"),
            ("fig11r-json", revision_json, "PATCH /plans/{id}/interventions/{item}"),
        ):
            profiled(
                f"{label}-{stores.backend}",
                lambda call=call: [call() for _ in range(calls)],  # type: ignore[misc]
                note=f"figure 11: {calls} {what}, a {EVENTS:,}-event plan",
            )
        active[0] = client
        final = client.get(f"/plans/{plan_id}", headers=headers)
        assert final.headers["ETag"] == f'"{version}"', (final.headers["ETag"], version)
    close_service(service)
    titles = {
        "strength": (
            "11",
            f"authoring form add-strength, POST to 303, {EVENTS:,}-event plan (p95)",
            "the same command as JSON, POST /plans/{id}/strengths (p95)",
        ),
        "revision": (
            "11r",
            f"authoring form revise-intervention with a rationale, {EVENTS:,}-event plan (p95)",
            "the same command as JSON, PATCH /plans/{id}/interventions/{item} (p95)",
        ),
    }
    figures = []
    for name, pair in pairs.items():
        number, title, baseline = titles[name]
        ratios = [f / j for f, j in zip(pair.form_p95, pair.json_p95, strict=True)]
        figures.append(
            Figure(
                number,
                title,
                stores.backend,
                "ms",
                pair.form_p95,
                baseline,
                "ms",
                pair.json_p95,
                ratios,
                "× JSON",
                f"≤ {GOAL}× the JSON",
                statistics.median(ratios) <= GOAL,
                f"{calls} of each per round, alternating, one write each (the plan grows "
                f"from {script.version:,} to {version:,} events over the run); p50 "
                f"{statistics.median(pair.form_p50):.2f} ms form, "
                f"{statistics.median(pair.json_p50):.2f} ms JSON; in process, with the access log",
                {
                    "form_p50_ms": pair.form_p50,
                    "json_p50_ms": pair.json_p50,
                    "events": EVENTS,
                    "calls": calls,
                    "final_version": version,
                },
            )
        )
    return figures
