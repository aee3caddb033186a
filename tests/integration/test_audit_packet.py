"""The audit packet on SQLite and PostgreSQL, made from the demo caseload: byte-reproducible,
real text an auditor's tools can search, verifiable against the store part by part, and
carrying the period's findings and the date-of-service lines."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select, update

from plantrail.api.demo import DemoPlan, load_demo
from plantrail.api.packet.pdf import _with_manifest, read_manifest
from plantrail.api.packet.service import packet_pdf, verify_packet
from plantrail.domain.errors import InvalidInput
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import open_service, recorder_of
from plantrail.projections.packet import PacketRequest
from plantrail.projections.profile import RuleProfile
from plantrail.projections.service_dates import ServiceDate
from plantrail.projections.store.schema import events as events_table
from plantrail.projections.store.schema import snapshots
from tests.integration.test_tamper import drop_append_only_triggers

AUDITOR = {"user_id": "alex-kim", "name": "Alex Kim", "role": "auditor"}


@pytest.fixture
def demo(service: PlanService) -> dict[str, DemoPlan]:
    plans = load_demo(service)
    return {p.client_id: p for p in plans}


def _request(service: PlanService, plan: DemoPlan, **extra: object) -> PacketRequest:
    today = service.clock().date()
    fields: dict[str, object] = {
        "plan_id": plan.plan_id,
        "start": today - timedelta(days=365),
        "end": today,
        "generated_at": service.clock().replace(microsecond=0),
        "generated_by": AUDITOR,
        "practice": "Riverside Counselling Associates",
        **extra,
    }
    return PacketRequest(**fields)  # type: ignore[arg-type]


def _pdf(service: PlanService, request: PacketRequest) -> bytes:
    events = service.events_of(request.plan_id)
    return packet_pdf(service, request, events, RuleProfile())[1]


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_same_request_gives_the_same_bytes(
    service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    request = _request(service, demo["MRN-20602"])
    first = _pdf(service, request)
    assert first.startswith(b"%PDF-")
    assert _pdf(service, request) == first, "same store, plan, period and time: same bytes"
    later = _request(
        service, demo["MRN-20602"], generated_at=request.generated_at + timedelta(seconds=1)
    )
    assert _pdf(service, later) != first, "the generation time is printed on the cover"


def test_the_text_holds_every_objective_statement_and_rationale(
    service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    plan = demo["MRN-20602"]
    pdf = _pdf(service, _request(service, plan))
    found = _text(pdf)
    state = service.load(plan.plan_id)
    for objective in state.objectives.values():
        assert " ".join(objective.statement.split()) in found, objective.label
    rationales = [e.rationale for e in service.events_of(plan.plan_id) if e.rationale]
    assert rationales, "the demo plan records rationales"
    for rationale in rationales:
        assert " ".join(rationale.split()) in found
    pages = PdfReader(io.BytesIO(pdf)).pages
    manifest = read_manifest(pdf)
    assert manifest is not None
    for number, page in enumerate(pages, start=1):
        footer = " ".join((page.extract_text() or "").split())
        assert f"Packet digest {manifest['digest']} page {number} of {len(pages)}" in footer
    assert "Riverside Counselling Associates" in found
    assert "Alex Kim" in found


def test_the_findings_keep_the_copied_forward_reviews_of_the_period(
    service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    plan = demo["MRN-20533"]  # the anxiety plan: reviews that never change the plan
    events = service.events_of(plan.plan_id)
    packet, _ = packet_pdf(service, _request(service, plan), events, RuleProfile())
    codes = {f["code"]: f for f in packet.parts["findings"]}
    assert "REVIEW_COPIED_FORWARD" in codes
    held = codes["REVIEW_COPIED_FORWARD"]["dates"]
    assert held
    assert all(run["from"] <= run["to"] for run in held)
    verdicts = [r["copy_forward"]["verdict"] for r in packet.parts["reviews"]["reviews"]]
    assert "copied_forward" in verdicts


def test_dates_of_service_before_the_plan_and_during_it(
    service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    plan = demo["MRN-20602"]
    state = service.load(plan.plan_id)
    before = state.effective_date - timedelta(days=3)
    during = state.effective_date + timedelta(days=20)
    request = _request(
        service,
        plan,
        dates=(ServiceDate(before, ("90837",)), ServiceDate(during, ("90837",))),
    )
    packet, pdf = packet_pdf(service, request, service.events_of(plan.plan_id), RuleProfile())
    first, second = packet.parts["dates_of_service"]
    assert (first["date"], first["plan_in_effect"], first["ok"]) == (
        before.isoformat(),
        False,
        False,
    )
    assert second["plan_in_effect"]
    assert second["clinician_signature"]["signed"]
    assert "NOT OK" in _text(pdf)


def test_verify_packet_matches_until_an_entry_is_edited_in_the_store(
    store_url: str, key_dir: Path, service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    plan = demo["MRN-20602"]
    pdf = _pdf(service, _request(service, plan))
    assert verify_packet(service, pdf, service.events_of).matches
    # A later entry does not change what the packet showed: it rebuilds the chart as it stood.
    service.clock.advance(days=1)  # type: ignore[attr-defined]
    check = verify_packet(service, pdf, service.events_of)
    assert check.matches
    assert not check.differing

    engine = recorder_of(service).engine
    with engine.begin() as conn:
        drop_append_only_triggers(conn)
        row = conn.execute(
            select(events_table.c.originator_version, events_table.c.state).where(
                events_table.c.originator_id == plan.plan_id,
                events_table.c.originator_version == 8,
            )
        ).one()
        state = orjson.loads(bytes(row.state))
        state["statement"] = state["statement"].replace("under 33", "under 40")
        conn.execute(
            update(events_table)
            .where(
                events_table.c.originator_id == plan.plan_id,
                events_table.c.originator_version == 8,
            )
            .values(state=orjson.dumps(state))
        )
        conn.execute(delete(snapshots))
    fresh = open_service(store_url, key_dir)
    try:
        check = verify_packet(fresh, pdf, fresh.events_of)
    finally:
        fresh.close()
        recorder_of(fresh).close()
    assert not check.matches
    assert "plan" in check.differing, "the objective's statement is in the plan part"
    assert "events" in check.differing
    assert "signatures" not in check.differing


def test_a_file_that_is_no_packet_is_refused(service: PlanService) -> None:
    with pytest.raises(InvalidInput, match="not a plantrail audit packet"):
        verify_packet(service, b"%PDF-1.4 nothing here", service.events_of)


def test_the_period_and_generation_time_are_checked() -> None:
    from uuid import uuid4

    with pytest.raises(InvalidInput, match=r"ends \(2026-04-01\) before it starts"):
        PacketRequest(uuid4(), date(2026, 5, 1), date(2026, 4, 1), datetime.now(UTC), AUDITOR)
    with pytest.raises(InvalidInput, match="longer than 1096 days"):
        PacketRequest(uuid4(), date(2020, 1, 1), date(2026, 4, 1), datetime.now(UTC), AUDITOR)
    with pytest.raises(InvalidInput, match="time zone"):
        PacketRequest(uuid4(), date(2026, 1, 1), date(2026, 4, 1), datetime(2026, 1, 1), AUDITOR)  # noqa: DTZ001


def test_a_statement_longer_than_a_page_flows_across_pages(
    service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    from plantrail.domain import commands as c
    from plantrail.domain.values import Actor

    plan = demo["MRN-20602"]
    objective = next(iter(service.load(plan.plan_id).objectives.values()))
    words = " ".join(f"step{n}" for n in range(1100))  # about 8,000 characters, one statement
    priya = Actor(user_id="priya-shah", name="Priya Shah", role="clinician", credentials="PsyD")
    service.execute(
        plan.plan_id,
        c.ReviseObjective(objective_id=objective.id, statement=words),
        c.CommandMeta(actor=priya, command_id="long-statement", rationale="A very long plan."),
    )
    pdf = _pdf(
        service, _request(service, plan, generated_at=service.clock().replace(microsecond=0))
    )
    # The page header and footer sit between the two halves of a statement split by a page.
    furniture = re.compile(
        r" ?Audit packet · [^·]+ · \S+ to \S+ Packet digest sha256:[0-9a-f]{64} page \d+ of \d+"
    )
    found = furniture.sub("", _text(pdf))
    assert words in found, "every word of the long statement is in the text, in order"
    assert "A very long plan." in found


def test_a_denied_amendment_with_its_statements_is_in_the_packet(
    service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    """45 CFR 164.526(d)(4): the request, the denial, the statement of disagreement and the
    rebuttal go with the record; in their own part and next to the items they concern."""
    from plantrail.api.packet.html import render_html
    from plantrail.api.packet.service import make_packet

    plan = demo["MRN-20417"]
    request = _request(service, plan)
    events = service.events_of(plan.plan_id)
    packet, _ = make_packet(service, request, events, RuleProfile())
    (row,) = packet.parts["amendments"]
    assert row["status"] == "denied"
    assert row["decision"]["denial_basis"] == "accurate_and_complete"
    assert row["item_ids"][0] == "F33.1"
    statement = row["disagreement_statement"]["statement"]
    rebuttal = row["rebuttal"]["rebuttal"]
    assert "grieving my father" in statement
    assert "amendments" not in (packet.parts["plan"]["document"] or {})
    page = " ".join(render_html(packet).split())
    text = _text(_pdf(service, request))
    for shown in (page, text):
        assert "Amendment requests" in shown
        assert "Basis for denial" in shown
        assert "accurate and complete" in shown
        assert "Remove 'recurrent'" in shown.replace("&#39;", "'")
        assert rebuttal.split(";")[0] in shown
        # In part 5, next to the diagnosis and the problem in part 1 (and in the event log).
        assert shown.count("I disagree. In 2019 I was grieving my father") >= 3
    # The part has a digest of its own, so verify-packet sees an altered statement.
    assert "amendments" in packet.digests


def test_a_packet_without_requests_says_so(service: PlanService, demo: dict[str, DemoPlan]) -> None:
    plan = (
        demo["MRN-30552"]
        if "MRN-30552" in demo
        else next(p for p in demo.values() if p.client_id != "MRN-20417")
    )
    text = _text(_pdf(service, _request(service, plan)))
    assert "No amendment has been requested." in text


_DETECTOR_2_SETTINGS = (
    "copy_forward_detector",
    "near_copy_max_words",
    "near_copy_min_similarity",
    "near_copy_similarity",
    "summary_nearly_repeated",
)


def test_a_packet_from_before_detector_2_still_verifies(
    service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    plan = demo["MRN-20533"]  # Morgan Lee: Review 1 only added "daily" to an objective
    request = _request(service, plan)
    events = service.events_of(plan.plan_id)
    old, old_pdf = packet_pdf(service, request, events, RuleProfile(copy_forward_detector=1))
    new, new_pdf = packet_pdf(service, request, events, RuleProfile())
    verdicts = [r["copy_forward"]["verdict"] for r in new.parts["reviews"]["reviews"]]
    assert "nearly_copied_forward" in verdicts
    assert "nearly_copied_forward" not in str(old.parts["reviews"])
    assert old.digests["reviews"] != new.digests["reviews"], "the detectors answer differently"
    # A packet written before the setting existed records a profile without it.
    manifest = read_manifest(old_pdf)
    assert manifest is not None
    for name in _DETECTOR_2_SETTINGS:
        del manifest["profile"][name]
    written_before = _with_manifest(
        old_pdf, json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    )
    check = verify_packet(service, written_before, service.events_of)
    assert check.matches, check.as_dict()
    assert verify_packet(service, new_pdf, service.events_of).matches
    # Asking for detector 1 explicitly is recorded and verifies the same way.
    assert read_manifest(old_pdf)["profile"]["copy_forward_detector"] == 1  # type: ignore[index]
    assert verify_packet(service, old_pdf, service.events_of).matches
