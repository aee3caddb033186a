"""Schema versions and upgrades (ADR 0019) on both stores.

Each earlier schema is a DDL snapshot of what that commit's code created on an empty store
(``tests/integration/data/schemas/``: the commit is in each file; ``snapshot.py`` there made
them). A test builds the old store from it, writes plans and access-log rows the way the old
code wrote them, runs ``migrate`` and checks the version, the data (verify-clean), the new
columns and tables, that the result has exactly the shape of a new store, and that a second
``migrate`` does nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from eventsourcing.utils import get_topic
from sqlalchemy import Engine, MetaData, String, inspect, select, text

from plantrail.domain.errors import StorageError
from plantrail.domain.service import PlanService
from plantrail.projections import caseload
from plantrail.projections.access.access_log import (
    GENESIS_HASH,
    AccessEntry,
    AccessLog,
    access_log_metadata,
    entry_hash,
    verify_access_log,
)
from plantrail.projections.access.accounts import accounts_metadata
from plantrail.projections.access.break_glass import break_glass_metadata
from plantrail.projections.access.client_access import client_access_metadata
from plantrail.projections.access.readiness import readiness_metadata
from plantrail.projections.access.web_sessions import sessions_metadata
from plantrail.projections.assembly import DATABASE_URL, KEY_DIR, PlanStoreFactory, open_service
from plantrail.projections.integrity.keys import load_chain_key
from plantrail.projections.integrity.verify import verify
from plantrail.projections.migrations import (
    HEAD,
    REVISIONS,
    VERSION_TABLE,
    SchemaMismatch,
    runner,
    version_metadata,
)
from plantrail.projections.store.engine import create_store_engine
from plantrail.projections.store.recorder import SqlPlanRecorder
from plantrail.projections.store.schema import metadata as store_metadata
from tests.support.clock import FakeClock
from tests.support.plans import build_signed_plan
from tests.support.stores import build_old_schema

OLD = ["before-break-glass", "before-wider-client-id", "before-hand-overs", "before-versions"]
"""3df6a79^ (the baseline), 01bb389^, 45f6030^ and 4cf1881 (the last commit without versions)."""

EVERY_METADATA = (
    store_metadata,
    caseload.metadata,
    access_log_metadata,
    accounts_metadata,
    sessions_metadata,
    client_access_metadata,
    break_glass_metadata,
    readiness_metadata,
    version_metadata,
)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    found = create_store_engine(store_url)
    yield found
    found.dispose()


def old_service(url: str, key_dir: Path, clock: FakeClock) -> PlanService:
    """A service on a store whatever its schema: the old code's write path (events, commands,
    snapshots) is today's, which these tables have not changed."""
    env = {
        "PERSISTENCE_MODULE": get_topic(PlanStoreFactory),
        DATABASE_URL: url,
        KEY_DIR: str(key_dir),
    }
    return PlanService(env, clock=clock, snapshot_interval=5)


def write_old_access_log(engine: Engine, key: bytes, count: int) -> None:
    """Access-log rows as the old code stored them: no break-glass column, chained."""
    previous = GENESIS_HASH
    with engine.begin() as conn:
        for seq in range(1, count + 1):
            row = {
                "user_id": "dr-ames",
                "role": "clinician",
                "plan_id": None,
                "action": "list_plans",
                "method": "GET",
                "route": "/plans",
                "status": 200,
                "outcome": "ok",
                "client_address": "127.0.0.1",
            }
            at = 1_780_000_000_000_000 + seq
            digest = entry_hash(key, previous, seq, at, row)
            conn.execute(
                text(
                    "INSERT INTO plantrail_access_log (seq, recorded_at_us, user_id, role, "
                    "plan_id, action, method, route, status, outcome, client_address, hash) "
                    "VALUES (:seq, :at, :user_id, :role, :plan_id, :action, :method, :route, "
                    ":status, :outcome, :client_address, :hash)"
                ),
                {**row, "seq": seq, "at": at, "hash": digest},
            )
            previous = digest


def schema_differences(engine: Engine) -> list[Any]:
    combined = MetaData()
    for metadata in EVERY_METADATA:
        for table in metadata.tables.values():
            table.to_metadata(combined)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": "alembic_unused"}
        )
        found = compare_metadata(context, combined)
    if engine.dialect.name == "sqlite":
        # SQLite does not enforce a VARCHAR's length, so step 0002 widens none there (it would
        # have to copy the table): a length is the one difference a SQLite store may keep.
        found = [d for d in found if not _only_a_longer_varchar(d)]
    return found


def _only_a_longer_varchar(difference: Any) -> bool:
    if not isinstance(difference, list) or len(difference) != 1:
        return False
    kind, *_, old, new = difference[0]
    return (
        kind == "modify_type"
        and isinstance(old, String)
        and isinstance(new, String)
        and (old.length or 0) < (new.length or 0)
    )


def stored_version(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


@pytest.mark.parametrize("name", OLD)
def test_an_old_store_is_upgraded_to_head_with_its_data_intact(
    store_url: str, engine: Engine, key_dir: Path, clock: FakeClock, name: str
) -> None:
    build_old_schema(engine, name)
    old = old_service(store_url, key_dir, clock)
    try:
        plans = [build_signed_plan(old)["plan_id"] for _ in range(3)]
    finally:
        old.close()
    key = load_chain_key(key_dir)
    assert key is not None
    write_old_access_log(engine, key, 4)

    with pytest.raises(SchemaMismatch) as refused:
        open_service(store_url, key_dir, clock=clock)
    assert str(refused.value) == (
        "the store is at schema none (made before plantrail recorded schema versions); "
        f"this plantrail needs {HEAD}: run `plantrail migrate`"
    )

    planned = runner.migrate(engine, dry_run=True)
    assert [step.revision for step in planned.pending] == list(REVISIONS)
    assert not inspect(engine).has_table(VERSION_TABLE)  # a dry run changes nothing
    done = runner.migrate(engine)
    assert [step.revision for step in done.applied] == list(REVISIONS)
    assert done.after == HEAD
    assert stored_version(engine) == [HEAD]

    found = inspect(engine)
    assert "break_glass_reason" in {c["name"] for c in found.get_columns("plantrail_access_log")}
    assert found.has_table("plantrail_web_hand_overs")
    assert found.has_table("plantrail_access_pending")
    assert "plantrail_events_effective_version" in {
        i["name"] for i in found.get_indexes("plantrail_events")
    }
    assert schema_differences(engine) == []

    assert runner.migrate(engine).pending == []  # a second migrate is a no-op
    assert stored_version(engine) == [HEAD]

    service = open_service(store_url, key_dir, clock=clock)
    try:
        recorder = service.recorder
        assert isinstance(recorder, SqlPlanRecorder)
        report = verify(recorder, key)
        assert report.ok, report.as_dict()
        assert report.plans_checked == 3
        log = verify_access_log(engine, key)
        assert log.ok
        assert log.entries_checked == 4
        for plan_id in plans:
            assert service.load(plan_id).version >= 8
        # The log chains on after the old rows; a break-glass reason goes in the new column.
        appended = AccessLog(engine, key, clock)
        try:
            entry = AccessEntry(method="GET", route="/plans/{id}", user_id="dr-ames", status=200)
            entry.break_glass_reason = "the client is in crisis"
            assert appended.append(entry) == 5
        finally:
            appended.close()
        assert verify_access_log(engine, key).ok
        # The read models, replaced by step 0005 where outdated, are recomputed from events.
        caseload.catch_up(service, recorder)
        with engine.connect() as conn:
            rows = conn.execute(select(caseload.caseload.c.plan_id)).scalars().all()
        assert len(rows) == 3
    finally:
        service.close()


def test_a_new_store_is_created_at_head(store_url: str, engine: Engine, key_dir: Path) -> None:
    service = open_service(store_url, key_dir)
    service.close()
    assert stored_version(engine) == [HEAD]
    assert runner.migrate(engine).pending == []
    # The access package's tables are created when first used, at this same schema.
    for metadata in EVERY_METADATA:
        metadata.create_all(engine)
    assert schema_differences(engine) == []


def test_a_store_stamped_at_an_older_step_is_refused_then_upgraded(
    store_url: str, engine: Engine, key_dir: Path
) -> None:
    build_old_schema(engine, "before-hand-overs")
    with engine.begin() as conn:
        version_metadata.create_all(conn)
        conn.execute(text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES ('0005')"))
    with pytest.raises(SchemaMismatch, match=r"^the store is at schema 0005; this plantrail "):
        open_service(store_url, key_dir)
    done = runner.migrate(engine)
    assert [step.revision for step in done.applied] == ["0006", "0007"]
    open_service(store_url, key_dir).close()


def test_a_store_newer_than_the_code_is_refused(
    store_url: str, engine: Engine, key_dir: Path
) -> None:
    open_service(store_url, key_dir).close()
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0099'"))
    with pytest.raises(SchemaMismatch) as refused:
        open_service(store_url, key_dir)
    assert str(refused.value) == (
        f"the store is at schema 0099; this plantrail needs {HEAD}: a newer plantrail upgraded "
        "it, so run that version (migrations only go forward)"
    )
    with pytest.raises(StorageError, match="a newer plantrail upgraded it"):
        runner.migrate(engine)
    assert stored_version(engine) == ["0099"]


def test_migrate_refuses_an_empty_store(engine: Engine) -> None:
    with pytest.raises(StorageError, match="there is no plantrail store here"):
        runner.migrate(engine)


def test_a_failing_step_is_rolled_back(
    store_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each step is one transaction: on PostgreSQL DDL is transactional; on SQLite too, since
    the runner's connection begins with ``BEGIN IMMEDIATE`` and the steps use only statements
    SQLite runs inside a transaction (CREATE/DROP TABLE and INDEX, ADD COLUMN)."""
    broken = tmp_path / "migrations"
    shutil.copytree(runner.HERE, broken, ignore=shutil.ignore_patterns("__pycache__"))
    step = broken / "versions" / "v0006_web_hand_overs.py"
    step.write_text(
        step.read_text()
        + "\n\n_upgrade = upgrade\n\n\ndef upgrade() -> None:  # type: ignore[no-redef]\n"
        "    _upgrade()\n    op.execute('SELECT no_such_column FROM plantrail_events')\n"
    )
    build_old_schema(engine, "before-hand-overs")
    monkeypatch.setattr(runner, "HERE", broken)
    with pytest.raises(StorageError, match=r"^step 0006 \(Web pages: hand-overs") as failed:
        runner.migrate(engine)
    assert "failed and was rolled back, the store is at schema 0005" in str(failed.value)
    assert stored_version(engine) == ["0005"]
    assert not inspect(engine).has_table("plantrail_web_hand_overs")  # the step's table too
    monkeypatch.setattr(runner, "HERE", runner.Path(runner.__file__).resolve().parent)
    assert [s.revision for s in runner.migrate(engine).applied] == ["0006", "0007"]
    assert inspect(engine).has_table("plantrail_web_hand_overs")


def test_the_revisions_listed_in_code_are_the_step_files() -> None:
    directory = runner.scripts()
    chain = [s.revision for s in directory.walk_revisions()]
    assert chain[::-1] == list(REVISIONS)
    assert directory.get_current_head() == HEAD
