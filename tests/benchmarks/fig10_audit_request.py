"""Figure 10: a whole audit request (``api/packet/audit_request.py``, as ``plantrail
audit-request`` and ``POST /audit-requests`` answer it) of 40 clients, each with two claims a
year apart, so 40 one-year packets, against 40 single packets of the same plans and period
made one by one as ``plantrail packet`` makes each, in the same run. Both in process, through
the gateway as an auditor, with the access-log entries built (not stored); the ratio is what
the request adds to its packets: the verdicts, the summary, the cover letter and the zip.

Each round times one request and one set of 40 single packets; the value of a round is its
wall time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from plantrail.api.packet.audit_request import answer_audit_request, parse_claims
from plantrail.api.packet.service import packet_pdf
from plantrail.projections.access.access_log import AccessEntry
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.gateway import PlanGateway
from plantrail.projections.access.policy import Principal
from plantrail.projections.assembly import recorder_of
from plantrail.projections.packet import PacketRequest
from plantrail.projections.profile import RuleProfile
from plantrail.projections.service_dates import ServiceDate
from tests.benchmarks import data
from tests.benchmarks.harness import Figure, Stores, close_service, log

CLIENTS = 40
START, END = date(2025, 9, 1), date(2026, 8, 31)
"""A year: the benchmark plans' events span 320 days from 2025-09-01 (``data.SPAN``)."""
AUDITOR = Principal(user_id="bench-auditor", name="Bench Auditor", role="auditor")


def run(stores: Stores, *, rounds: int, events: int) -> list[Figure]:
    url = stores.new_url("fig10")
    service = stores.open(url)
    plans = []
    for seed in range(1, CLIENTS + 1):
        runner = data.DirectRunner(service, data.SimulatedClock())  # one per plan, as
        script = data.write_plan(runner, events, seed, review_every=12)  # data.templates
        assert script.plan_id is not None
        plans.append((script.plan_id, f"MRN-{seed:07d}"))
    gateway = PlanGateway(service, Accounts(recorder_of(service).engine))
    rows = [f"{mrn},{day.isoformat()},90837" for _, mrn in plans for day in (START, END)]
    claims = parse_claims("mrn,date,cpt\n" + "\n".join(rows) + "\n")
    profile = RuleProfile()
    now = datetime.now(UTC).replace(microsecond=0)
    who = {"user_id": AUDITOR.user_id, "name": AUDITOR.name, "role": AUDITOR.role}

    def entry() -> AccessEntry:
        return AccessEntry(method="BENCH", route="fig10", user_id=AUDITOR.user_id)

    def request() -> int:
        answer = answer_audit_request(
            service, gateway, AUDITOR, claims, new_entry=entry, generated_at=now, profile=profile
        )
        made = [p for p in answer.packets if p.pdf]
        assert len(made) == CLIENTS, [p.problem for p in answer.packets]
        return len(answer.zip_bytes)

    def singles() -> int:
        size = 0
        for plan_id, _ in plans:
            events = gateway.events(AUDITOR, plan_id, entry(), view="packet")
            dates = (ServiceDate(START, ("90837",)), ServiceDate(END, ("90837",)))
            packet_request = PacketRequest(
                plan_id=plan_id, start=START, end=END, generated_at=now, generated_by=who,
                dates=dates,
            )  # fmt: skip
            size += len(packet_pdf(service, packet_request, events, profile)[1])
        return size

    def timed(call: Callable[[], int]) -> float:
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    zip_size, pdf_size = request(), singles()  # warm: both fill the service's caches
    request_times: list[float] = []
    single_times: list[float] = []
    for n in range(rounds):
        request_times.append(timed(request))
        single_times.append(timed(singles))
        log(
            f"  fig10 round {n + 1}: request {request_times[-1]:.0f} ms, "
            f"{CLIENTS} single packets {single_times[-1]:.0f} ms"
        )
    close_service(service)
    ratios = [r / s for r, s in zip(request_times, single_times, strict=True)]
    return [
        Figure(
            "10",
            f"audit request: {CLIENTS} clients, {2 * CLIENTS} claims, {CLIENTS} one-year "
            f"packets of {events:,}-event plans, zipped",
            stores.backend,
            "ms",
            request_times,
            f"{CLIENTS} single packets of the same plans and period, one by one",
            "ms",
            single_times,
            ratios,
            f"× {CLIENTS} single packets",
            "no more than the packets it holds, plus a little (≤ 1.2×)",
            statistics.median(ratios) <= 1.2 if ratios else None,
            f"zip {zip_size:,} bytes, the single packets {pdf_size:,} bytes; in process, "
            "through the gateway as an auditor",
            {"clients": CLIENTS, "events": events, "period": [START.isoformat(), END.isoformat()]},
        )
    ]
