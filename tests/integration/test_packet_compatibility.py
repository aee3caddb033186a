"""A packet handed out before a change of the packet format still verifies against the record.

``data/packet-format-1/`` holds a packet made by the format-1 code (the demo PTSD plan, with
dates of service), the plan's events as a JSON Lines export and the test-only keys whose chain
key gave its chain hashes. Imported into a fresh store (on SQLite, and PostgreSQL when
configured), the record rebuilds that packet exactly, so ``verify-packet`` says it matches; a
byte changed in it is still caught."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from plantrail.api.packet.pdf import read_manifest
from plantrail.api.packet.service import verify_packet
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.store.transfer import import_lines
from tests.support.clock import FakeClock
from tests.support.stores import running_service

DATA = Path(__file__).parent / "data" / "packet-format-1"


@pytest.fixture
def old_store(store_url: str, tmp_path: Path) -> Iterator[PlanService]:
    keys = tmp_path / "format-1-keys"
    shutil.copytree(DATA / "keys", keys)
    keys.chmod(0o700)
    with running_service(store_url, keys, clock=FakeClock()) as service:
        lines = (DATA / "store.jsonl").read_bytes().splitlines(keepends=True)
        import_lines(service, recorder_of(service), lines)
        yield service


def test_a_format_1_packet_still_matches_the_record(old_store: PlanService) -> None:
    pdf = (DATA / "packet-format-1.pdf").read_bytes()
    manifest = read_manifest(pdf)
    assert manifest is not None
    assert manifest["format"] == "plantrail-packet/1"
    check = verify_packet(old_store, pdf, old_store.events_of)
    assert check.matches, check.as_dict()
