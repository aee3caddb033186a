"""Two figures of the audit answers, outside the figure harness (quick, SQLite, one process):

1. the signature coverage rule's cost in a year's period findings of the 1,000-event benchmark
   plan (``data.write_plan``, as figure 8 writes it): rule on against ``disabled``;
2. ``verify-packet`` on the demo PTSD plan's packet for a year with 20 dates of service: the
   parts alone (``make_packet``, what the digests compare) against the whole check (parts,
   then the PDF laid out again and compared page by page).

    python -m tests.benchmarks.audit_answers

Each value is the median of 5 timed runs after one untimed run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from plantrail.api.demo import load_demo
from plantrail.api.packet.service import make_packet, packet_pdf, verify_packet
from plantrail.projections.assembly import open_service
from plantrail.projections.integrity.keys import create_keys
from plantrail.projections.packet import PacketRequest
from plantrail.projections.period_findings import period_findings
from plantrail.projections.profile import RuleProfile
from plantrail.projections.service_dates import ServiceDate
from tests.benchmarks import data
from tests.support.clock import FakeClock


def _p50(run: Callable[[], object], times: int = 5) -> float:
    run()
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        run()
        spent.append((time.perf_counter() - began) * 1000)
    return statistics.median(spent)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        create_keys(root / "keys")
        service = open_service(f"sqlite:///{root / 'bench.db'}", root / "keys")
        written = data.write_plan(data.DirectRunner(service, data.SimulatedClock()), 1000, 8)
        events = service.events_of(written.plan_id)
        year = (date(2025, 9, 1), date(2026, 8, 31))
        off = RuleProfile(disabled=frozenset({"UNSIGNED_CHANGES"}))
        on_ms = _p50(lambda: period_findings(events, RuleProfile(), *year))
        off_ms = _p50(lambda: period_findings(events, off, *year))
        print(
            f"period findings, a year of {len(events)} events: rule on {on_ms:,.0f} ms, "
            f"rule off {off_ms:,.0f} ms (p50)"
        )
        service.close()

        demo = open_service(f"sqlite:///{root / 'demo.db'}", root / "keys", clock=FakeClock())
        plan = {p.client_id: p for p in load_demo(demo)}["MRN-20602"]
        history = demo.events_of(plan.plan_id)
        request = PacketRequest(
            plan_id=plan.plan_id,
            start=date(2025, 3, 2),
            end=date(2026, 3, 1),
            generated_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            generated_by={"user_id": "alex-kim", "name": "Alex Kim", "role": "auditor"},
            dates=tuple(ServiceDate(date(2025, 6, 1 + i)) for i in range(20)),
        )
        parts_ms = _p50(lambda: make_packet(demo, request, history, RuleProfile()))
        pdf = packet_pdf(demo, request, history, RuleProfile())[1]
        verify_ms = _p50(lambda: verify_packet(demo, pdf, demo.events_of))
        print(
            f"verify-packet, demo PTSD packet ({len(history)} events, {len(pdf):,} bytes): "
            f"parts alone {parts_ms:,.0f} ms, parts and pages {verify_ms:,.0f} ms (p50)"
        )
        demo.close()


if __name__ == "__main__":
    main()
