"""``verify`` asks the database about its own store: an index that disagrees with its table
makes reads wrong while every chain is intact, and a damaged page must be a finding, never a
traceback (docs/integrity.md, "What verify checks").

On SQLite the file is damaged for real, byte by byte: an edited entry of the recorded-time index
and a flipped bit in the events' unique index. PostgreSQL keeps its pages in shared buffers that
a test cannot damage without restarting the server, so there the checks are shown to read each
index alone and to report a disagreement (through the comparison's digest), with and without the
``amcheck`` extension.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from plantrail.domain import commands as c
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.integrity.keys import load_chain_key
from plantrail.projections.integrity.verify import STORE, verify
from plantrail.projections.store import soundness
from tests.support import FakeClock, meta, running_service
from tests.support.cli import plantrail
from tests.support.plans import open_plan


def _written(service: PlanService, clock: FakeClock, notes: int = 3) -> tuple[UUID, list[int]]:
    """A plan whose events were recorded ten minutes apart; their recorded times."""
    plan_id = open_plan(service)
    for n in range(notes):
        clock.advance(minutes=10)
        service.execute(plan_id, c.NoteStrength(text=f"Strength {n}"), meta())
    times = [e.recorded_at for e in service.events_of(plan_id)]
    return plan_id, [int(t.timestamp() * 1_000_000) for t in times]


def _page(path: Path, index: str) -> tuple[int, int]:
    """Where ``index``'s root page starts in the file, and the page size."""
    with sqlite3.connect(path) as conn:
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (index,)
        ).fetchone()
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    return (int(root[0]) - 1) * int(size), int(size)


def _replace_in_index(path: Path, index: str, old: bytes, new: bytes) -> None:
    start, size = _page(path, index)
    data = bytearray(path.read_bytes())
    at = data.index(old, start, start + size)
    data[at : at + len(new)] = new
    path.write_bytes(bytes(data))


@pytest.fixture
def sqlite_store(
    tmp_path: Path, key_dir: Path, clock: FakeClock
) -> tuple[str, Path, UUID, list[int]]:
    db = tmp_path / "plantrail.db"
    url = f"sqlite:///{db}"
    with running_service(url, key_dir, clock=clock) as service:
        plan_id, times = _written(service, clock)
    return url, db, plan_id, times


def test_an_edited_entry_of_the_recorded_index_is_found(
    sqlite_store: tuple[str, Path, UUID, list[int]], key_dir: Path, clock: FakeClock
) -> None:
    url, db, plan_id, times = sqlite_store
    checkpoint = json.loads(plantrail("checkpoint", "--json", db=url, keys=key_dir).stdout)["path"]
    # The newest event's entry now says it was recorded five minutes earlier.
    earlier = times[-1] - 5 * 60 * 1_000_000
    _replace_in_index(
        db, "plantrail_events_recorded", struct.pack(">q", times[-1]), struct.pack(">q", earlier)
    )
    with running_service(url, key_dir, clock=clock) as service:
        between = service.events_of(plan_id)[-1].recorded_at - timedelta(minutes=1)
        # What the defect looks like: the chart "as of" a minute before the last change shows it.
        assert service.load_at(plan_id, as_of=between).version == len(times)
        report = verify(recorder_of(service), load_chain_key(key_dir) or b"")
    assert not report.ok
    found = [p for p in report.problems if p.plan_id == STORE]
    assert [p.kind for p in found] == ["store_corrupt"]
    assert "plantrail_events_recorded" in found[0].message
    assert not [p for p in report.problems if p.plan_id != STORE], "the chains are intact"

    checked = plantrail("verify", "--checkpoint", checkpoint, db=url, keys=key_dir, check=False)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "FAIL store: store_corrupt" in checked.stdout
    assert "STORE DAMAGED" in checked.stdout
    assert "Traceback" not in checked.stderr


@pytest.mark.parametrize("offset", [5, 32])
def test_a_flipped_bit_in_the_unique_index_is_a_finding_not_a_crash(
    sqlite_store: tuple[str, Path, UUID, list[int]], key_dir: Path, offset: int
) -> None:
    url, db, plan_id, _times = sqlite_store
    start, size = _page(db, "sqlite_autoindex_plantrail_events_1")
    data = bytearray(db.read_bytes())
    at = data.index(plan_id.hex.encode(), start, start + size) + offset
    data[at] ^= 1
    db.write_bytes(bytes(data))

    checked = plantrail("verify", "--json", db=url, keys=key_dir, check=False)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    found = json.loads(checked.stdout)
    kinds = {p["kind"] for p in found["problems"] if p["plan_id"] == STORE}
    assert "store_corrupt" in kinds
    # Read off the table alone, the chains of the damaged store still check out.
    assert [p for p in found["problems"] if p["plan_id"] != STORE] == []
    assert found["events_checked"] == 4


def test_a_clean_store_has_no_store_findings(service: PlanService, clock: FakeClock) -> None:
    _written(service, clock)
    assert soundness.store_findings(recorder_of(service).engine) == []


def _postgresql_only(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("the index comparison and amcheck are PostgreSQL's")


def test_postgresql_reads_each_event_index_alone_and_reports_a_disagreement(
    store_url: str, service: PlanService, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(store_url)
    _written(service, clock)
    engine = recorder_of(service).engine
    read: list[tuple[str, tuple[int, str]]] = []
    real = soundness._digest

    def digest(conn: Any, way: str, query: str, *, expect: str | None) -> Any:
        found = real(conn, way, query, expect=expect)
        read.append((expect or way, found))
        return found

    monkeypatch.setattr(soundness, "_digest", digest)
    assert soundness.store_findings(engine) == []
    by_index = dict(read)
    for index in soundness.EVENT_INDEXES:
        assert by_index[index] is not None, f"{index} was not read alone"
        assert by_index[index][0] == 4

    # An index that holds one entry too few is a finding, and verify reports it.
    def short(conn: Any, way: str, query: str, *, expect: str | None) -> Any:
        found = real(conn, way, query, expect=expect)
        if expect == "plantrail_events_recorded" and found is not None:
            return found[0] - 1, found[1]
        return found

    monkeypatch.setattr(soundness, "_digest", short)
    report = verify(recorder_of(service), recorder_of(service).chain_key or b"")
    assert [(p.plan_id, p.kind) for p in report.problems] == [(STORE, "store_corrupt")]
    assert "plantrail_events_recorded disagrees with its table" in report.problems[0].message


def test_postgresql_uses_amcheck_when_it_is_installed(
    store_url: str, service: PlanService, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(store_url)
    _written(service, clock)
    database = make_url(store_url).set(query={})
    admin = create_engine(database, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public"))
        engine = recorder_of(service).engine
        ran: list[str] = []

        def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "bt_index_check" in statement:
                ran.append(statement)

        def not_compared(*_: Any, **__: Any) -> Any:
            raise AssertionError("the comparison ran although amcheck is installed")

        monkeypatch.setattr(soundness, "_compare", not_compared)
        event.listen(engine, "before_cursor_execute", note)
        try:
            assert soundness.store_findings(engine) == []
        finally:
            event.remove(engine, "before_cursor_execute", note)
        # The events' key and three indexes, and those of the other plantrail tables.
        assert len(ran) >= 4
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP EXTENSION IF EXISTS amcheck"))
        admin.dispose()
