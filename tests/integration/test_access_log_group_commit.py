"""The access log's group commit: rows of concurrent requests share a transaction, every waiter
is released only once its row is committed (or told that it was not stored), and writers in
several processes still build one valid chain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select

from plantrail.domain.errors import StorageError
from plantrail.domain.service import PlanService
from plantrail.projections.access.access_log import (
    AccessEntry,
    AccessLog,
    access_log,
    verify_access_log,
)
from plantrail.projections.assembly import recorder_of


def entry(n: int) -> AccessEntry:
    return AccessEntry(
        method="GET", route="/plans/{plan_id}", user_id=f"user-{n}", status=200, outcome="ok"
    )


@pytest.fixture
def log(service: PlanService) -> Iterator[AccessLog]:
    found = new_log(service)
    yield found
    found.close()


def new_log(service: PlanService) -> AccessLog:
    recorder = recorder_of(service)
    found = AccessLog(recorder.engine, recorder.chain_key, service.clock)
    found.create_tables()
    return found


def stored_rows(engine: Engine) -> int:
    # A connection of its own (a fresh engine): what any other process would see.
    other = create_engine(engine.url)
    try:
        with other.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(access_log)).scalar() or 0)
    finally:
        other.dispose()


def test_append_returns_once_the_row_is_committed(log: AccessLog) -> None:
    assert log.append(entry(1)) == 1
    assert stored_rows(log.engine) == 1
    assert log.append(entry(2)) == 2
    assert stored_rows(log.engine) == 2


def test_concurrent_writers_in_two_processes_build_one_chain(service: PlanService) -> None:
    """Two AccessLog objects (as two server processes have) and many threads each."""
    logs = [new_log(service), new_log(service)]
    numbers: list[int] = []
    guard = threading.Lock()

    def work(log: AccessLog, base: int) -> None:
        futures = [log.submit(entry(base + n)) for n in range(25)]
        found = [f.result(timeout=60) for f in futures]
        with guard:
            numbers.extend(found)

    threads = [threading.Thread(target=work, args=(logs[n % 2], n * 100)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for log in logs:
        log.close()
    assert sorted(numbers) == list(range(1, 201))
    recorder = recorder_of(service)
    assert recorder.chain_key is not None
    report = verify_access_log(recorder.engine, recorder.chain_key)
    assert report.ok, report.problems
    assert report.entries_checked == 200


def test_a_failed_batch_fails_every_waiter_and_stores_nothing(
    log: AccessLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    log.append(entry(0))
    release = threading.Event()
    real = log._store

    def failing(rows: list[dict[str, Any]]) -> list[int]:
        release.wait(10)  # let the other submissions queue into this very batch
        raise StorageError("cannot write the access log: the database disk is full")

    monkeypatch.setattr(log, "_store", failing)
    futures: list[Future[int]] = [log.submit(entry(n)) for n in range(1, 6)]
    release.set()
    for future in futures:
        with pytest.raises(StorageError, match="disk is full"):
            future.result(timeout=30)
    assert stored_rows(log.engine) == 1

    monkeypatch.setattr(log, "_store", real)
    assert log.append(entry(9)) == 2  # the chain goes on where it stood
    recorder_key = log.key
    assert recorder_key is not None
    assert verify_access_log(log.engine, recorder_key).ok


def test_rows_are_chained_in_one_transaction_per_batch(
    log: AccessLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    real = log._store
    hold = threading.Event()

    def counted(rows: list[dict[str, Any]]) -> list[int]:
        hold.wait(10)
        batches.append(len(rows))
        return real(rows)

    monkeypatch.setattr(log, "_store", counted)
    futures = [log.submit(entry(n)) for n in range(10)]
    hold.set()
    assert [f.result(timeout=30) for f in futures] == list(range(1, 11))
    assert sum(batches) == 10
    assert len(batches) < 10  # some rows shared a commit


def test_the_log_keeps_working_after_close(log: AccessLog) -> None:
    log.append(entry(1))
    log.close()
    assert log.append(entry(2)) == 2


def test_without_a_chain_key_nothing_is_stored(service: PlanService) -> None:
    recorder = recorder_of(service)
    keyless = AccessLog(recorder.engine, None, service.clock)
    keyless.create_tables()
    with pytest.raises(StorageError, match="no chain key"):
        keyless.append(entry(1))
    assert stored_rows(recorder.engine) == 0
