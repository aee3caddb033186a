"""Break-glass reads in the access log on each store: an access log made before the
``break_glass_reason`` column gains it without any row being rewritten, its old rows still
verify, a new row's reason is inside the chain (editing it is detected), and reviews are
append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, Table, text, update

from plantrail.domain.errors import InvalidInput, RuleViolation
from plantrail.domain.service import PlanService
from plantrail.projections.access.access_log import (
    AccessEntry,
    AccessLog,
    access_log,
    verify_access_log,
)
from plantrail.projections.access.break_glass import BreakGlass
from plantrail.projections.assembly import recorder_of
from plantrail.projections.migrations import HEAD
from plantrail.projections.migrations.runner import migrate

REASON = "Client in crisis at the front desk; on call tonight"


def read(user: str, reason: str | None = None) -> AccessEntry:
    return AccessEntry(
        method="GET", route="/plans/{plan_id}", user_id=user, role="clinician",
        plan_id="6f1c2d8e-0000-4000-8000-000000000001", action="view:plan", status=200,
        outcome="ok", break_glass_reason=reason,
    )  # fmt: skip


def create_old_access_log(service: PlanService) -> None:
    """The access-log table as releases before ADR 0016 made it (no break-glass column)."""
    old = MetaData()
    columns = [Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
               for c in access_log.columns if c.name != "break_glass_reason"]  # fmt: skip
    Table("plantrail_access_log", old, *columns).create(recorder_of(service).engine)


def test_an_old_access_log_gains_the_column_and_keeps_its_chain(service: PlanService) -> None:
    recorder = recorder_of(service)
    assert recorder.chain_key is not None
    create_old_access_log(service)
    # A row as an old release wrote it (its hash covers no reason), before the upgrade.
    with recorder.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plantrail_access_log (seq, recorded_at_us, user_id, role, plan_id,"
                " action, method, route, status, outcome, client_address, hash)"
                " VALUES (1, 1, 'dana-reyes', 'clinician', NULL, 'view:me', 'GET', '/me', 200,"
                " 'ok', NULL, :hash)"
            ),
            {"hash": _old_hash(recorder.chain_key)},
        )
    # The upgrade: ``plantrail migrate`` from the baseline, whose step 0002 adds the column.
    with recorder.engine.begin() as conn:
        conn.execute(text("UPDATE plantrail_schema_version SET version_num = '0001'"))
    assert migrate(recorder.engine).after == HEAD
    log = AccessLog(recorder.engine, recorder.chain_key, service.clock)
    log.append(read("marcus-hill", REASON))
    log.append(read("dana-reyes"))
    log.close()
    report = verify_access_log(recorder.engine, recorder.chain_key)
    assert report.ok, report.problems
    assert report.entries_checked == 3
    rows = log.entries()
    assert [r["break_glass_reason"] for r in rows] == [None, REASON, None]


def _old_hash(key: bytes) -> str:
    from plantrail.projections.access.access_log import GENESIS_HASH, entry_hash

    row = {"user_id": "dana-reyes", "role": "clinician", "plan_id": None, "action": "view:me",
           "method": "GET", "route": "/me", "status": 200, "outcome": "ok",
           "client_address": None}  # fmt: skip
    return entry_hash(key, GENESIS_HASH, 1, 1, row)


def test_an_edited_reason_breaks_the_chain(service: PlanService) -> None:
    recorder = recorder_of(service)
    assert recorder.chain_key is not None
    log = AccessLog(recorder.engine, recorder.chain_key, service.clock)
    log.create_tables()
    seq = log.append(read("marcus-hill", REASON))
    log.close()
    with recorder.engine.begin() as conn:
        # The triggers refuse UPDATE; a tamperer with the owner's rights drops them first.
        if recorder.engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER plantrail_access_log_no_update"))
        else:
            conn.execute(text("ALTER TABLE plantrail_access_log DISABLE TRIGGER USER"))
        conn.execute(
            update(access_log).where(access_log.c.seq == seq).values(break_glass_reason="routine")
        )
    report = verify_access_log(recorder.engine, recorder.chain_key)
    assert not report.ok
    assert [p.seq for p in report.problems] == [seq]


def test_reviews_are_once_each_and_append_only(service: PlanService) -> None:
    recorder = recorder_of(service)
    log = AccessLog(recorder.engine, recorder.chain_key, service.clock)
    log.create_tables()
    seq = log.append(read("marcus-hill", REASON))
    log.append(read("dana-reyes"))
    log.close()
    glass = BreakGlass(recorder.engine, service.clock)
    glass.create_tables()
    assert [r.seq for r in glass.reads(unreviewed_only=True)] == [seq]
    assert len(glass.findings("6f1c2d8e-0000-4000-8000-000000000001")) == 1
    with pytest.raises(InvalidInput):
        glass.review(seq, "admin", "   ")
    done = glass.review(seq, "admin", "Confirmed with the on-call log")
    assert done.reviewed_by == "admin"
    assert glass.reads(unreviewed_only=True) == []
    assert glass.findings("6f1c2d8e-0000-4000-8000-000000000001") == []
    with pytest.raises(RuleViolation):
        glass.review(seq, "admin", "Again")
    with pytest.raises(Exception, match="append-only"), recorder.engine.begin() as conn:
        conn.execute(text("DELETE FROM plantrail_break_glass_reviews"))
    assert glass.reads()[0].reviewed
