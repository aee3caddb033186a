"""The request id in the access log on each store: an access log made before the
``request_id`` column (and before ``break_glass_reason``) gains both without any row being
rewritten, its old rows still verify, and a new row's id is inside its chain hash."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, text

from plantrail.domain.service import PlanService
from plantrail.projections.access.access_log import (
    GENESIS_HASH,
    AccessEntry,
    AccessLog,
    access_log,
    entry_hash,
    verify_access_log,
)
from plantrail.projections.assembly import recorder_of
from plantrail.projections.migrations.runner import migrate

OLD_ROW = {"user_id": "dana-reyes", "role": "clinician", "plan_id": None, "action": "view:me",
           "method": "GET", "route": "/me", "status": 200, "outcome": "ok",
           "client_address": None}  # fmt: skip


def test_an_old_access_log_gains_the_request_id_and_keeps_its_chain(
    service: PlanService,
) -> None:
    recorder = recorder_of(service)
    key = recorder.chain_key
    assert key is not None
    old = MetaData()
    columns = [Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
               for c in access_log.columns
               if c.name != "request_id"]  # fmt: skip
    Table("plantrail_access_log", old, *columns).create(recorder.engine)
    with recorder.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plantrail_access_log (seq, recorded_at_us, user_id, role, plan_id,"
                " action, method, route, status, outcome, client_address, break_glass_reason,"
                " hash) VALUES (1, 1, 'dana-reyes', 'clinician', NULL, 'view:me', 'GET', '/me',"
                " 200, 'ok', NULL, NULL, :hash)"
            ),
            {"hash": entry_hash(key, GENESIS_HASH, 1, 1, OLD_ROW)},
        )
    with recorder.engine.begin() as conn:  # the store as step 0006 left it
        conn.execute(text("UPDATE plantrail_schema_version SET version_num = '0006'"))
    assert [s.revision for s in migrate(recorder.engine).applied] == ["0007"]  # the upgrade
    log = AccessLog(recorder.engine, key, service.clock)
    log.create_tables()
    log.append(AccessEntry(method="GET", route="/me", user_id="dana-reyes", role="clinician",
                           action="view:me", status=200, outcome="ok",
                           request_id="lb-7f3a"))  # fmt: skip
    log.append(AccessEntry(method="GET", route="/me", user_id="dana-reyes", status=200))
    log.close()
    report = verify_access_log(recorder.engine, key)
    assert report.ok, report.problems
    assert report.entries_checked == 3
    assert [r["request_id"] for r in log.entries()] == [None, "lb-7f3a", None]


def test_the_request_id_is_inside_the_hash() -> None:
    key = b"k" * 32
    with_id = {**OLD_ROW, "request_id": "lb-7f3a"}
    assert entry_hash(key, GENESIS_HASH, 1, 1, with_id) != entry_hash(
        key, GENESIS_HASH, 1, 1, {**OLD_ROW, "request_id": "lb-7f3b"}
    )
    assert AccessEntry(method="GET", route="/me").cleaned().keys() == OLD_ROW.keys()
    assert (
        AccessEntry(method="GET", route="/me", request_id="x" * 99).cleaned()["request_id"]
        == "x" * 64
    )
