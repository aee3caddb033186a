"""Backup and restore of a whole store (``projections/store/backup.py``) on both stores.

A backup taken while a thread writes commands through the service must hold every write
acknowledged before it started, and be a consistent prefix: each plan in the copy stops at a
version some command answered (no command half in the copy), and the copy verifies clean.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plantrail.domain import commands as c
from plantrail.domain.errors import InvalidInput, PlantrailError
from plantrail.projections.assembly import recorder_of
from plantrail.projections.integrity.keys import load_keys
from plantrail.projections.integrity.verify import verify
from plantrail.projections.store import backup as store_backup
from tests.support.plans import meta, open_plan
from tests.support.stores import require_pg_tools, running_service

pytestmark = pytest.mark.slow


@pytest.fixture
def target_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty place to restore into: a new SQLite file, or a new PostgreSQL database
    (a backup of a store kept in one schema restores that schema by name)."""
    if store_backup.is_sqlite_url(store_url):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    parsed = make_url(store_url)
    name = f"plantrail_restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = parsed.set(database=name)
    schema = str(parsed.query["options"]).removeprefix("-csearch_path=")
    created = create_engine(target, isolation_level="AUTOCOMMIT")
    with created.connect() as conn:  # as the test fixtures make a store: a schema of its own
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    created.dispose()
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _heads(url: str, key_dir: Path) -> tuple[dict[UUID, int], bool]:
    """Every plan's head version in the store at ``url``, and whether it verifies clean."""
    with running_service(url, key_dir) as service:
        recorder = recorder_of(service)
        report = verify(recorder, load_keys(key_dir).chain_key)
        heads = {plan_id: version for plan_id, version, _hash in recorder.heads()}
    return heads, report.ok and not report.problems


def test_backup_under_write_load_is_a_consistent_prefix_and_restores_clean(
    store_url: str, target_url: str, key_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_pg_tools(store_url)
    # One page per step: the copy spans many steps while the writer commits between them, so
    # the held read snapshot is what keeps it consistent (and finishing).
    monkeypatch.setattr(store_backup, "PAGES_PER_STEP", 1)
    answered: dict[UUID, set[int]] = defaultdict(set)
    acknowledged: dict[UUID, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[BaseException] = []
    with running_service(store_url, key_dir) as service:
        plans = [open_plan(service, mrn=f"MRN-{n}") for n in range(8)]
        for plan_id in plans:
            acknowledged[plan_id] = service.load(plan_id).version
            answered[plan_id].add(acknowledged[plan_id])

        def write() -> None:
            n = 0
            try:
                while not stop.is_set():
                    plan_id = plans[n % len(plans)]
                    command = c.NoteStrength(text=f"strength {n} " + "x" * 200)
                    result = service.execute(plan_id, command, meta())
                    with lock:
                        answered[plan_id].add(result.version)
                        acknowledged[plan_id] = max(acknowledged[plan_id], result.version)
                    n += 1
            except BaseException as error:  # surfaced in the test below
                failures.append(error)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        try:
            time.sleep(0.5)  # a store of some pages, still being written
            with lock:
                before = dict(acknowledged)
            steps: list[tuple[int, int]] = []
            dest = tmp_path / "backup.db"
            copied = store_backup.backup(
                store_url, dest, progress=lambda done, total: steps.append((done, total))
            )
            time.sleep(0.2)  # the writer goes on after the copy
        finally:
            stop.set()
            writer.join(timeout=60)
        assert not failures, failures
        with lock:
            after = dict(acknowledged)
    assert copied.size > 0
    assert sum(after.values()) > sum(before.values()), "the writer wrote during the backup"
    if store_backup.is_sqlite_url(store_url):
        assert len(steps) > 1, "copied in steps"
    store_backup.write_checksum(dest)

    store_backup.restore(dest, target_url)
    heads, clean = _heads(target_url, key_dir)
    assert clean
    assert set(heads) == set(plans)
    for plan_id in plans:
        # every write acknowledged before the backup started is there ...
        assert heads[plan_id] >= before[plan_id]
        # ... and each plan ends where a command ended: no torn command, no torn plan
        assert heads[plan_id] in answered[plan_id]


def test_restore_refuses_a_store_that_holds_events_unless_forced(
    store_url: str, target_url: str, key_dir: Path, tmp_path: Path
) -> None:
    require_pg_tools(store_url)
    with running_service(store_url, key_dir) as service:
        first = open_plan(service, mrn="MRN-1")
    dest = tmp_path / "backup.db"
    store_backup.backup(store_url, dest)
    store_backup.write_checksum(dest)
    with running_service(target_url, key_dir) as other:
        other_plan = open_plan(other, mrn="MRN-2")

    with pytest.raises(InvalidInput, match=r"is not empty \(\d+ events\); add --force"):
        store_backup.restore(dest, target_url)
    heads, _ = _heads(target_url, key_dir)
    assert set(heads) == {other_plan}, "nothing was restored"

    store_backup.restore(dest, target_url, force=True)
    heads, clean = _heads(target_url, key_dir)
    assert clean
    assert set(heads) == {first}


def test_backup_refuses_an_existing_file_without_force(
    store_url: str, key_dir: Path, tmp_path: Path
) -> None:
    require_pg_tools(store_url)
    with running_service(store_url, key_dir) as service:
        open_plan(service)
    dest = tmp_path / "backup.db"
    dest.write_bytes(b"keep me")
    with pytest.raises(InvalidInput, match="already exists; add --force"):
        store_backup.backup(store_url, dest)
    assert dest.read_bytes() == b"keep me"
    store_backup.backup(store_url, dest, force=True)
    assert dest.stat().st_size > 7
    assert not dest.with_name("backup.db.partial").exists()


def _flip(path: Path, at: int, count: int = 16) -> None:
    data = bytearray(path.read_bytes())
    for i in range(at, min(at + count, len(data))):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_damaged_backup_is_refused_by_its_checksum_and_nothing_is_restored(
    store_url: str, target_url: str, key_dir: Path, tmp_path: Path
) -> None:
    require_pg_tools(store_url)
    with running_service(store_url, key_dir) as service:
        open_plan(service)
    dest = tmp_path / "backup.db"
    store_backup.backup(store_url, dest)
    store_backup.write_checksum(dest)
    _flip(dest, dest.stat().st_size // 2, count=1)  # one byte: no structure check sees it
    with pytest.raises(InvalidInput, match="does not match its checksum"):
        store_backup.restore(dest, target_url)
    heads, _ = _heads(target_url, key_dir)
    assert heads == {}


def test_a_damaged_backup_without_its_checksum_is_refused_or_fails_whole(
    store_url: str, target_url: str, key_dir: Path, tmp_path: Path
) -> None:
    """Without the ``.sha256`` the file's own structure is all there is: a damaged header is
    refused before the target is touched; PostgreSQL restores in one transaction."""
    require_pg_tools(store_url)
    with running_service(store_url, key_dir) as service:
        open_plan(service)
    dest = tmp_path / "backup.db"
    store_backup.backup(store_url, dest)
    _flip(dest, 0, count=16)  # the file's magic: SQLite's header, pg_dump's "PGDMP"
    with pytest.raises(PlantrailError, match="not an intact") as refused:
        store_backup.restore(dest, target_url)
    assert "\n" not in refused.value.message
    heads, _ = _heads(target_url, key_dir)
    assert heads == {}
