"""An audit packet an auditor can rely on, on SQLite and PostgreSQL: an unsigned revision before
a date of service is flagged on that date, in the findings, the signature coverage and on the
cover, all agreeing; and ``verify-packet`` rebuilds the PDF from the store and names the page of
any edit a reader would see (cover, middle, last page), a raw byte changed inside a compressed
page, and an incremental update appended to the file."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, NameObject

from plantrail.api.demo import DemoPlan, load_demo
from plantrail.api.packet.service import packet_pdf, verify_packet
from plantrail.domain import commands as c
from plantrail.domain.service import PlanService
from plantrail.projections.packet import PacketRequest
from plantrail.projections.profile import RuleProfile
from plantrail.projections.service_dates import ServiceDate
from tests.support.plans import build_signed_plan, meta

AUDITOR = {"user_id": "alex-kim", "name": "Alex Kim", "role": "auditor"}


@pytest.fixture
def demo(service: PlanService) -> dict[str, DemoPlan]:
    return {p.client_id: p for p in load_demo(service)}


def _packet(service: PlanService, plan_id: object, **extra: object) -> tuple[object, bytes]:
    today = service.clock().date()
    fields: dict[str, object] = {
        "plan_id": plan_id,
        "start": today - timedelta(days=365),
        "end": today,
        "generated_at": service.clock().replace(microsecond=0),
        "generated_by": AUDITOR,
        **extra,
    }
    request = PacketRequest(**fields)  # type: ignore[arg-type]
    return packet_pdf(service, request, service.events_of(request.plan_id), RuleProfile())


def _texts(pdf: bytes) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages]


# ----------------------------------------------------------------- signature coverage
def test_an_unsigned_revision_before_a_date_of_service_is_flagged_everywhere(
    service: PlanService,
) -> None:
    plan_id = build_signed_plan(service)["plan_id"]
    start = service.clock().date()
    service.execute(
        plan_id,
        c.CaptureSignature(role="client", meaning="agreed", signer_name="Pat Doe"),
        meta(),
    )
    service.clock.advance(days=10)  # type: ignore[attr-defined]
    revised = service.execute(
        plan_id,
        c.SetDischargeCriteria(criteria=["Two reviews in a row with PHQ-9 under 10"]),
        meta(rationale="Criteria made measurable.", effective_date=service.clock().date()),
    )
    version = revised.version
    day_after = service.clock().date() + timedelta(days=1)
    service.clock.advance(days=3)  # type: ignore[attr-defined]
    packet, pdf = _packet(
        service,
        plan_id,
        start=start,
        end=service.clock().date(),
        dates=(ServiceDate(start + timedelta(days=1), ("90837",)), ServiceDate(day_after, ())),
    )
    parts = packet.parts  # type: ignore[attr-defined]
    before, after = parts["dates_of_service"]
    assert (before["ok"], before["unsigned_changes"]) == (True, [])
    assert after["ok"] is False
    assert [c["version"] for c in after["unsigned_changes"]] == [version]
    assert after["unsigned_changes"][0]["items"] == ["Discharge criteria"]
    assert f"version {version}" in after["summary"]
    found = {f["code"]: f for f in parts["findings"]}
    assert found["UNSIGNED_CHANGES"]["first_held"] == (day_after - timedelta(days=1)).isoformat()
    coverage = parts["signatures"]["coverage"]
    assert coverage[-1]["from_version"] == version
    assert coverage[-1]["clinician"] == []
    summary = parts["cover"]["summary"]
    assert summary["dates_not_ok"] == [day_after.isoformat()]
    assert summary["dates_unsigned_changes"] == [day_after.isoformat()]
    assert summary["unsigned_versions"] == [version]
    text = " ".join(_texts(pdf))
    assert "1 of 2 NOT OK" in text
    assert f"content not signed by the clinician from version {version}" in text
    assert "Signature coverage" in text
    assert "unsigned changes in effect:" in text
    from plantrail.api.packet.html import render_html

    page = " ".join(render_html(packet).split())  # type: ignore[arg-type]
    assert "Signature coverage" in page
    assert f"content not signed by the clinician from version {version}</strong>" in page
    assert "1 of 2 NOT OK" in page


def test_the_demo_ptsd_plan_dates_after_the_revision_are_not_ok(
    service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    plan = demo["MRN-20602"]
    state = service.load(plan.plan_id)
    signature = next(s for s in state.signatures.values() if s.role == "clinician")
    assert signature.superseded_by_version is not None
    superseded = next(
        e
        for e in service.events_of(plan.plan_id)
        if e.originator_version == signature.superseded_by_version
    )
    later = superseded.effective_date + timedelta(days=1)
    packet, _ = _packet(service, plan.plan_id, dates=(ServiceDate(later),))
    [line] = packet.parts["dates_of_service"]  # type: ignore[attr-defined]
    assert line["ok"] is False
    assert "the clinician had not signed" in line["summary"]
    assert "OK" not in line["summary"].rsplit(":", 1)[-1].split()


# ---------------------------------------------------------------------- page checks
@pytest.fixture
def made(service: PlanService, demo: dict[str, DemoPlan]) -> tuple[bytes, list[str]]:
    plan = demo["MRN-20602"]
    state = service.load(plan.plan_id)
    _, pdf = _packet(
        service, plan.plan_id, dates=(ServiceDate(state.effective_date + timedelta(days=30)),)
    )
    return pdf, _texts(pdf)


def _edit_page(pdf: bytes, index: int, old: bytes, new: bytes) -> bytes:
    """The PDF rewritten with one text run of a page changed (as an editor would save it)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    page = writer.pages[index]
    content = ContentStream(page.get_contents(), writer)
    data = content.get_data()
    assert old in data, (old, index)
    content.set_data(data.replace(old, new, 1))
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _a_digit_on(pdf: bytes, index: int) -> bytes:
    data = PdfReader(io.BytesIO(pdf)).pages[index].get_contents().get_data()  # type: ignore[union-attr]
    match = re.search(rb"\((\d{4}-\d\d-\d\d)", data)
    assert match is not None
    return match.group(1)


def _check(service: PlanService, pdf: bytes) -> object:
    return verify_packet(service, pdf, service.events_of)


def test_an_untouched_packet_matches(service: PlanService, made: tuple[bytes, list[str]]) -> None:
    pdf, _ = made
    check = _check(service, pdf)
    assert check.matches, check.as_dict()  # type: ignore[attr-defined]


@pytest.mark.parametrize("where", ["cover", "middle", "last"])
def test_an_edited_page_is_named(
    service: PlanService, made: tuple[bytes, list[str]], where: str
) -> None:
    pdf, texts = made
    index = {"cover": 0, "middle": len(texts) // 2, "last": len(texts) - 1}[where]
    old = _a_digit_on(pdf, index)
    new = old[:-1] + (b"1" if old[-1:] != b"1" else b"2")
    edited = _edit_page(pdf, index, old, new)
    check = _check(service, edited)
    assert not check.matches  # type: ignore[attr-defined]
    assert check.pages == [index + 1], check.as_dict()  # type: ignore[attr-defined]
    assert any(f"page {index + 1} differs" in p for p in check.problems)  # type: ignore[attr-defined]
    assert check.differing == [], "the record itself is unchanged"  # type: ignore[attr-defined]


def test_a_raw_byte_changed_in_a_compressed_page_is_caught(
    service: PlanService, made: tuple[bytes, list[str]]
) -> None:
    pdf, texts = made
    index = len(texts) // 2
    ref = PdfReader(io.BytesIO(pdf)).pages[index].raw_get("/Contents")
    obj = pdf.index(b"\n%d 0 obj" % ref.idnum)
    begin = pdf.index(b"stream\n", obj) + len(b"stream\n")
    at = begin + (pdf.index(b"endstream", begin) - begin) // 2  # inside the deflated bytes
    damaged = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    check = _check(service, damaged)
    assert not check.matches  # type: ignore[attr-defined]
    assert check.pages == [index + 1], check.as_dict()  # type: ignore[attr-defined]


def test_an_appended_incremental_update_is_refused(
    service: PlanService, made: tuple[bytes, list[str]]
) -> None:
    pdf, _ = made
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_metadata({"/Subject": "edited"})
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    assert updated.startswith(pdf), "an incremental update keeps the original bytes"
    check = _check(service, updated)
    assert not check.matches  # type: ignore[attr-defined]
    assert any("appended" in p for p in check.problems)  # type: ignore[attr-defined]
    # Bytes after the end-of-file marker are refused too.
    check = _check(service, pdf + b"\n% a note\n")
    assert not check.matches  # type: ignore[attr-defined]
    assert any("appended" in p for p in check.problems)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ period-true wording
def test_the_review_charts_quote_the_objective_as_worded_in_the_period(
    service: PlanService,
) -> None:
    plan = build_signed_plan(service)
    start = service.clock().date()
    service.clock.advance(days=120)  # type: ignore[attr-defined]
    service.execute(
        plan["plan_id"],
        c.ReviseObjective(objective_id=plan["objective1"], statement="PHQ-9 below 5 for a month"),
        meta(rationale="Raised the bar after progress.", effective_date=service.clock().date()),
    )
    packet, pdf = _packet(service, plan["plan_id"], start=start, end=start + timedelta(days=60))
    charts = {ch["objective_id"]: ch for ch in packet.parts["reviews"]["charts"]}  # type: ignore[attr-defined]
    assert charts[plan["objective1"]]["statement"] == "PHQ-9 below 10"
    text = " ".join(_texts(pdf))
    assert "PHQ-9 below 5 for a month" not in text, "a revision after the period"


def test_each_run_of_a_finding_is_worded_as_on_its_own_days(
    service: PlanService, demo: dict[str, DemoPlan]
) -> None:
    packet, _ = _packet(service, demo["MRN-20602"].plan_id)
    for finding in packet.parts["findings"]:  # type: ignore[attr-defined]
        assert all("message" in run for run in finding["dates"])
        assert finding["dates"][-1]["message"] == finding["message"]
