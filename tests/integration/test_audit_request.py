"""A whole audit request over the demo caseload, on both stores: 40 claims and the bad rows
an auditor's list always has give a verdict line each, a packet per plan the claims fall in
(each verifying against the record), one access-log entry per packet, and the same zip for
the same request."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

import pytest

from plantrail.api.demo import load_demo
from plantrail.api.packet.audit_request import (
    AuditRequestAnswer,
    answer_audit_request,
    parse_claims,
)
from plantrail.api.packet.service import verify_packet
from plantrail.domain.service import PlanService
from plantrail.projections.access.access_log import AccessEntry
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.gateway import PlanGateway
from plantrail.projections.access.policy import Principal
from plantrail.projections.assembly import recorder_of
from plantrail.projections.profile import RuleProfile

AUDITOR = Principal(user_id="alex-kim", name="Alex Kim", role="auditor")
Answered = tuple[PlanService, list[AccessEntry], str]
ADMIN = Principal(user_id="sam-admin", name="Sam Admin", role="admin")


def forty_claims(mrns: list[str], today: date) -> str:
    """Eight dates of service for each of the first five clients, then three bad rows. The
    demo's first five plans span the eight months of claims; the two plans added with 0.3.0
    (social anxiety, an adolescent) are younger and take no claims here."""
    assert len(mrns) >= 5
    mrns = mrns[:5]
    rows = ["mrn,date,cpt"]
    for mrn in mrns:
        for k in range(8):
            day = today - timedelta(days=250 - 28 * k)
            rows.append(f"{mrn},{day.isoformat()},90837")
    rows += [
        "MRN-99999,2026-01-01,90837",  # no such client
        f"{mrns[2]},2015-01-01,90834",  # before any plan
        f"{mrns[2]},2026-01-01,90X",  # not a CPT code
    ]
    return "\n".join(rows) + "\n"


@pytest.fixture
def answered(service: PlanService) -> Answered:
    plans = load_demo(service)
    text = forty_claims([p.client_id for p in plans], service.clock().date())
    return service, [], text


def _answer(
    service: PlanService, text: str, caller: Principal, entries: list[AccessEntry]
) -> AuditRequestAnswer:
    gateway = PlanGateway(service, Accounts(recorder_of(service).engine))

    def new_entry() -> AccessEntry:
        entry = AccessEntry(method="CLI", route="test", user_id=caller.user_id, role=caller.role)
        entries.append(entry)
        return entry

    return answer_audit_request(
        service,
        gateway,
        caller,
        parse_claims(text),
        new_entry=new_entry,
        generated_at=service.clock(),
        profile=RuleProfile(),
        practice="Harbor Counseling",
    )


def test_forty_claims_give_forty_verdicts_and_their_packets(
    answered: Answered,
) -> None:
    service, entries, text = answered
    answer = _answer(service, text, AUDITOR, entries)
    lines = answer.lines
    assert len(lines) == 43
    good, bad = lines[:40], {line["mrn"] + line["date"]: line for line in lines[40:]}
    assert all(line["verdict"] in ("OK", "NOT OK") for line in good)
    assert bad["MRN-999992026-01-01"]["verdict"] == "NOT CHECKED"
    assert "no client with this MRN" in bad["MRN-999992026-01-01"]["reason"]
    before = next(line for line in lines[40:] if line["date"] == "2015-01-01")
    assert before["verdict"] == "NOT OK"
    assert "no plan in effect" in before["reason"]
    malformed = next(line for line in lines[40:] if "CPT" in line["reason"])
    assert malformed["verdict"] == "NOT CHECKED"

    archive = zipfile.ZipFile(io.BytesIO(answer.zip_bytes))
    names = set(archive.namelist())
    assert {"summary.csv", "cover-letter.pdf"} <= names
    summary = list(csv.DictReader(io.StringIO(archive.read("summary.csv").decode())))
    assert summary == lines
    named = {line["packet"] for line in lines if line["packet"]}
    planned = {line["plan_id"] for line in good if line["plan_id"]}
    assert len(named) == len(planned) == len(answer.packets) >= 4
    assert named == names - {"summary.csv", "cover-letter.pdf"}
    for packet in answer.packets:
        pdf = archive.read(packet.name)
        check = verify_packet(service, pdf, service.events_of)
        assert check.matches, check.problems
        assert check.digest == packet.digest
    packet_entries = [e for e in entries if e.action.startswith("packet:")]
    assert len(packet_entries) == len(answer.packets)
    assert all(e.status == 200 and e.outcome == "ok" for e in packet_entries)
    assert {e.plan_id for e in packet_entries} == planned


def test_the_same_request_gives_the_same_zip(
    answered: Answered,
) -> None:
    service, entries, text = answered
    assert _answer(service, text, AUDITOR, entries).zip_bytes == (
        _answer(service, text, AUDITOR, entries).zip_bytes
    )


def test_an_admin_gets_the_verdicts_but_no_packet(
    answered: Answered,
) -> None:
    """An admin audits dates of service (compliance facts) but never reads the plan document
    (docs/audits.md): every packet is refused, and logged as such."""
    service, entries, text = answered
    answer = _answer(service, text, ADMIN, entries)
    assert [line["verdict"] for line in answer.lines[:40]] == [
        line["verdict"] for line in _answer(service, text, AUDITOR, []).lines[:40]
    ]
    assert answer.packets
    assert not any(p.pdf for p in answer.packets)
    assert all("outside your reach" in (p.problem or "") for p in answer.packets)
    refused = [e for e in entries if e.action.startswith("packet:")]
    assert len(refused) == len(answer.packets)
    assert all(e.status == 404 and e.outcome == "denied" for e in refused)
    names = zipfile.ZipFile(io.BytesIO(answer.zip_bytes)).namelist()
    assert names == ["summary.csv", "cover-letter.pdf"]
