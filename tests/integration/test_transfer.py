"""Export and import of a store as JSON Lines (``projections/store/transfer.py``).

Import checks every record, recomputes every chain with the target's key and stores the whole
file in one transaction, or nothing; it writes each long plan's head snapshot from the state it
folded while checking (the fast path), or, for plans it could not keep folded, by re-reading
the plan from the store (the old path). Both paths must write the same snapshot bytes.
Runs on SQLite, and on PostgreSQL too when configured (the cross-database round trip only then).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from sqlalchemy import func, select

from plantrail.domain.errors import InvalidInput
from plantrail.domain.integrity import GENESIS, chain_hash
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import open_service, recorder_of
from plantrail.projections.integrity.keys import load_keys
from plantrail.projections.integrity.verify import verify
from plantrail.projections.store import transfer
from plantrail.projections.store.recorder import to_micros
from plantrail.projections.store.schema import events, snapshots
from plantrail.projections.store.transfer import export_lines, import_lines
from tests.benchmarks import data
from tests.support.clock import FakeClock
from tests.support.plans import build_signed_plan
from tests.support.stores import PG_ENV, postgres_schema_url, sqlite_url


def test_a_busy_machine_folds_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transfer, "_load_average", lambda: 64.0)
    assert not transfer.folds_in_child()


@pytest.fixture(params=["in a child process", "in this process"])
def fold_where(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both places the import folds plans: a forked child (where there is a second core and
    ``fork``) and the importing process itself."""
    child = request.param == "in a child process"
    monkeypatch.setattr(transfer, "_load_average", lambda: 0.0)  # as if the cores were idle
    if child and not transfer.folds_in_child():
        pytest.skip("no fork or a single core here")
    monkeypatch.setattr(transfer, "FOLD_IN_CHILD", child)
    return str(request.param)


@pytest.fixture
def new_store(
    store_url: str, tmp_path: Path, key_dir: Path, pg_database: str | None
) -> Iterator[Any]:
    """Opens further empty stores on the same database as ``store_url``, sharing ``key_dir``."""
    opened: list[PlanService] = []

    def make(backend: str | None = None) -> PlanService:
        backend = backend or ("sqlite" if store_url.startswith("sqlite") else "postgresql")
        if backend == "sqlite":
            folder = tmp_path / f"store{len(opened)}"
            folder.mkdir()
            url = sqlite_url(folder)
        else:
            assert pg_database is not None
            url = postgres_schema_url(pg_database)
        opened.append(open_service(url, key_dir, clock=FakeClock()))
        return opened[-1]

    yield make
    for svc in opened:
        svc.close()
        recorder_of(svc).close()


@pytest.fixture
def source(service: PlanService) -> tuple[PlanService, list[bytes]]:
    """A store of two long plans (about 120 and 60 events) and a short one, and its export."""
    data.templates(service, 2, 120)
    data.templates(service, 1, 60, first_seed=7)
    build_signed_plan(service)
    return service, list(export_lines(recorder_of(service)))


def _rows(service: PlanService, table: Any, *order: Any) -> list[tuple[Any, ...]]:
    with recorder_of(service).engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*order))]


def _counts(service: PlanService) -> tuple[int, int]:
    with recorder_of(service).engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(events)).scalar()
        taken = conn.execute(select(func.count()).select_from(snapshots)).scalar()
    return int(stored or 0), int(taken or 0)


def _snapshot_rows(service: PlanService) -> list[tuple[str, int, bytes]]:
    """(plan, version, bytes) of every snapshot, alike on both databases."""
    rows = _rows(service, snapshots, snapshots.c.plan_id, snapshots.c.version)
    return sorted((str(plan), int(version), bytes(state)) for plan, version, state in rows)


def _records(lines: list[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in lines[1:]]


def _lines(records: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps({"format": transfer.FORMAT}) + b"\n"] + [
        orjson.dumps(r) + b"\n" for r in records
    ]


def _long_plans(lines: list[bytes], interval: int) -> set[str]:
    heads: dict[str, int] = {}
    for record in _records(lines):
        heads[record["plan_id"]] = record["version"]
    return {plan for plan, version in heads.items() if version >= interval}


# ------------------------------------------------------------------------------ round trips
@pytest.mark.usefixtures("fold_where")
def test_round_trip_stores_the_same_events_and_verifies(
    source: tuple[PlanService, list[bytes]], new_store: Any, key_dir: Path
) -> None:
    service, lines = source
    target = new_store()
    result = import_lines(target, recorder_of(target), lines)
    assert (result.events, result.plans) == (len(lines) - 1, 4)
    assert list(export_lines(recorder_of(target))) == lines
    report = verify(recorder_of(target), load_keys(key_dir).chain_key)
    assert report.ok
    assert report.events_checked == len(lines) - 1
    for plan_id in recorder_of(service).plan_ids():
        assert target.load(plan_id) == service.load(plan_id)


@pytest.mark.usefixtures("fold_where")
def test_each_long_plan_gets_its_head_snapshot(
    source: tuple[PlanService, list[bytes]], new_store: Any
) -> None:
    _, lines = source
    target = new_store()
    result = import_lines(target, recorder_of(target), lines)
    long_plans = _long_plans(lines, target.snapshot_interval)
    assert len(long_plans) == 3
    assert result.snapshots == 3
    heads = {str(p): v for p, v, _ in recorder_of(target).heads()}
    assert {(p, v) for p, v, _ in _snapshot_rows(target)} == {(p, heads[p]) for p in long_plans}


@pytest.mark.usefixtures("fold_where")
def test_folded_snapshots_equal_the_ones_read_back_from_the_store(
    source: tuple[PlanService, list[bytes]], new_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lines = source
    fast = new_store()
    import_lines(fast, recorder_of(fast), lines)
    monkeypatch.setattr(transfer, "FOLD_LIMIT", 0)  # no state kept: every plan re-read
    slow = new_store()
    assert import_lines(slow, recorder_of(slow), lines).snapshots == 3
    assert _snapshot_rows(fast) == _snapshot_rows(slow)
    for plan_id, version, state in _snapshot_rows(fast):
        from_events = slow.load(UUID(plan_id))
        assert from_events.version == version
        assert PlanService.snapshot_bytes(from_events) == state


@pytest.mark.usefixtures("fold_where")
def test_interleaved_plans_beyond_the_fold_limit_are_snapshotted_alike(
    source: tuple[PlanService, list[bytes]], new_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lines = source
    by_plan: dict[str, list[dict[str, Any]]] = {}
    for record in _records(lines):
        by_plan.setdefault(record["plan_id"], []).append(record)
    queues = list(by_plan.values())
    interleaved = []
    while any(queues):  # one event of each plan in turn: per-plan order kept
        for queue in queues:
            if queue:
                interleaved.append(queue.pop(0))
    plain = new_store()
    import_lines(plain, recorder_of(plain), lines)
    monkeypatch.setattr(transfer, "FOLD_LIMIT", 1)  # every other plan is dropped and re-read
    mixed = new_store()
    assert import_lines(mixed, recorder_of(mixed), _lines(interleaved)).snapshots == 3
    assert _snapshot_rows(mixed) == _snapshot_rows(plain)


@pytest.mark.usefixtures("fold_where")
def test_a_plan_that_does_not_fold_takes_the_old_path(
    source: tuple[PlanService, list[bytes]],
    new_store: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure of the fast path is not the import's: the old path re-reads the plan."""
    _, lines = source
    plain = new_store()
    import_lines(plain, recorder_of(plain), lines)

    def broken(*_: Any) -> Any:
        raise ValueError("cannot fold")

    monkeypatch.setattr(transfer, "fold", broken)
    target = new_store()
    assert import_lines(target, recorder_of(target), lines).snapshots == 3
    assert _snapshot_rows(target) == _snapshot_rows(plain)


def test_a_child_that_dies_leaves_the_snapshots_to_the_old_path(
    source: tuple[PlanService, list[bytes]], new_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer, "_load_average", lambda: 0.0)
    if not transfer.folds_in_child():
        pytest.skip("no fork or a single core here")
    _, lines = source
    plain = new_store()
    import_lines(plain, recorder_of(plain), lines)

    def dies(*_: Any) -> None:
        os._exit(3)

    monkeypatch.setattr(transfer, "_fold_in_child", dies)
    target = new_store()
    assert import_lines(target, recorder_of(target), lines).snapshots == 3
    assert _snapshot_rows(target) == _snapshot_rows(plain)
    assert list(export_lines(recorder_of(target))) == lines


def test_a_failed_fork_folds_in_this_process(
    source: tuple[PlanService, list[bytes]], new_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lines = source
    plain = new_store()
    import_lines(plain, recorder_of(plain), lines)

    def no_fork(*_: Any) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(transfer, "_ForkedFolds", no_fork)
    monkeypatch.setattr(transfer, "FOLD_IN_CHILD", True)
    monkeypatch.setattr(transfer, "_load_average", lambda: 0.0)
    target = new_store()
    assert import_lines(target, recorder_of(target), lines).snapshots == 3
    assert _snapshot_rows(target) == _snapshot_rows(plain)


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason="needs PostgreSQL")
def test_sqlite_to_postgresql_to_sqlite(
    source: tuple[PlanService, list[bytes]],
    new_store: Any,
    key_dir: Path,
    store_url: str,
) -> None:
    if not store_url.startswith("sqlite"):
        pytest.skip("the SQLite run covers it")
    service, lines = source
    key = load_keys(key_dir).chain_key
    postgres = new_store("postgresql")
    import_lines(postgres, recorder_of(postgres), lines)
    assert verify(recorder_of(postgres), key).ok
    moved = list(export_lines(recorder_of(postgres)))
    assert moved == lines
    back = new_store("sqlite")
    import_lines(back, recorder_of(back), moved)
    report = verify(recorder_of(back), key)
    assert report.ok
    assert report.events_checked == len(lines) - 1
    assert list(export_lines(recorder_of(back))) == lines
    assert _snapshot_rows(back) == _snapshot_rows(postgres)
    for plan_id in recorder_of(service).plan_ids():
        assert back.load(plan_id) == service.load(plan_id)


# --------------------------------------------------------------------------------- refusals
def _refused(target: PlanService, lines: list[bytes], *expected: str) -> None:
    before = _counts(target)
    with pytest.raises(InvalidInput) as refused:
        import_lines(target, recorder_of(target), lines)
    message = str(refused.value)
    assert "nothing was imported" in message
    for part in expected:
        assert part in message
    assert "\n" not in message
    assert _counts(target) == before


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several batches inserted before the bad line: their rows must be rolled back too."""
    monkeypatch.setattr(transfer, "BATCH", 7)


@pytest.mark.usefixtures("small_batches")
def test_a_broken_chain_is_refused(source: tuple[PlanService, list[bytes]], new_store: Any) -> None:
    _, lines = source
    records = _records(lines)
    records[150]["chain_hash"] = "0" * 64
    _refused(new_store(), _lines(records), "line 152", "breaks its hash chain")


@pytest.mark.usefixtures("small_batches")
def test_an_altered_payload_is_refused(
    source: tuple[PlanService, list[bytes]], new_store: Any
) -> None:
    _, lines = source
    records = _records(lines)
    records[150]["state"] = records[150]["state"].replace(":", ": ", 1)  # same JSON, other bytes
    _refused(new_store(), _lines(records), "line 152", "breaks its hash chain")


@pytest.mark.usefixtures("small_batches")
def test_index_columns_that_disagree_with_the_payload_are_refused(
    source: tuple[PlanService, list[bytes]], new_store: Any
) -> None:
    _, lines = source
    for column, value in (
        ("recorded_at_us", 1),
        ("effective_date", "1999-01-01"),
        ("command_id", "someone-else"),
    ):
        records = _records(lines)
        records[100][column] = value
        _refused(new_store(), _lines(records), "line 102", "index columns disagree")


@pytest.mark.usefixtures("small_batches")
def test_a_duplicate_event_is_refused(
    source: tuple[PlanService, list[bytes]], new_store: Any
) -> None:
    _, lines = source
    doubled = [*lines[:120], lines[119], *lines[120:]]
    _refused(new_store(), doubled, "line 121", "expected version")


@pytest.mark.usefixtures("small_batches")
def test_a_plan_the_store_already_has_is_refused(
    source: tuple[PlanService, list[bytes]], new_store: Any
) -> None:
    service, lines = source
    target = new_store()
    extra = data.templates(target, 1, 30, first_seed=11)  # the target has a plan of its own
    assert extra
    import_lines(target, recorder_of(target), lines[:100])  # and part of the file
    _refused(target, lines, "line 2", "already exists in this store")
    _refused(service, lines, "line 2", "already exists in this store")


@pytest.mark.usefixtures("small_batches")
def test_an_event_the_store_already_has_is_refused(
    source: tuple[PlanService, list[bytes]], new_store: Any
) -> None:
    """A later event of a plan already stored, even one that would chain on, conflicts."""
    _, lines = source
    first = _records(lines)[0]["plan_id"]
    head = [line for line in lines[1:] if orjson.loads(line)["plan_id"] == first]
    target = new_store()
    import_lines(target, recorder_of(target), lines[:1] + head[:10])
    _refused(target, lines[:1] + head[10:], "line 2", "already exists in this store")


def test_what_is_not_an_export_is_refused(
    source: tuple[PlanService, list[bytes]], new_store: Any
) -> None:
    _, lines = source
    target = new_store()
    _refused(target, [b'{"format": "something/1"}\n', *lines[1:]], "line 1", "header")
    _refused(target, [], "line 1", "empty")
    _refused(target, [*lines[:3], b"{not json\n", *lines[3:]], "line 4", "not JSON")
    _refused(target, [*lines[:3], b"[1, 2]\n", *lines[3:]], "line 4", "not an event object")
    records = _records(lines)
    for field, value in (("plan_id", "not-a-uuid"), ("plan_id", 7), ("topic", "no.such:Topic")):
        bad = [dict(r) for r in records]
        bad[2][field] = value
        _refused(target, _lines(bad), "line 4", "not a plantrail event record")
    missing = [dict(r) for r in records]
    del missing[2]["chain_hash"]
    _refused(target, _lines(missing), "line 4", "not a plantrail event record")
    # The payload is parsed once, before any other use of it: one that is not a JSON object
    # is refused like any other malformed record.
    for payload in ("{not json", "[1, 2]", '"text"', "7"):
        bad = [dict(r) for r in records]
        bad[2]["state"] = payload
        _refused(target, _lines(bad), "line 4", "not a plantrail event record")


def test_another_spelling_of_a_plan_id_is_the_same_plan(
    source: tuple[PlanService, list[bytes]], new_store: Any
) -> None:
    _, lines = source
    records = _records(lines)
    records[1]["plan_id"] = records[1]["plan_id"].upper()
    target = new_store()
    import_lines(target, recorder_of(target), _lines(records))
    assert list(export_lines(recorder_of(target))) == lines
    records[1] = dict(records[0], plan_id=records[0]["plan_id"].upper())
    _refused(new_store(), _lines(records), "line 3", "expected version 2, found 1")


def _rechained(records: list[dict[str, Any]], key: bytes) -> list[dict[str, Any]]:
    """The records with every chain hash recomputed with ``key``: what someone holding the
    key could write, so only the import's own rules can refuse it."""
    previous: dict[str, bytes] = {}
    for record in records:
        plan = record["plan_id"]
        digest = chain_hash(
            key,
            previous.get(plan, GENESIS),
            UUID(plan),
            record["version"],
            record["topic"],
            record["state"].encode(),
        )
        previous[plan] = digest
        record["chain_hash"] = digest.hex()
    return records


@pytest.mark.usefixtures("small_batches")
def test_an_event_recorded_before_the_one_it_follows_is_refused(
    source: tuple[PlanService, list[bytes]], new_store: Any, key_dir: Path
) -> None:
    """Reads as of an instant take the events recorded by then as a prefix of the plan."""
    _, lines = source
    records = _records(lines)
    earlier, later = records[99], records[100]
    assert earlier["plan_id"] == later["plan_id"]
    payload = orjson.loads(later["state"])
    moment = datetime.fromisoformat(orjson.loads(earlier["state"])["recorded_at"])
    payload["recorded_at"] = (moment - timedelta(seconds=1)).isoformat()
    later["state"] = orjson.dumps(payload).decode()
    later["recorded_at_us"] = to_micros(moment - timedelta(seconds=1))
    rechained = _rechained(records, load_keys(key_dir).chain_key)
    _refused(new_store(), _lines(rechained), "line 102", "recorded before the version it follows")
