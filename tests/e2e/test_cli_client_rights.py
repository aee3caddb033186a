"""``plantrail client-access``, ``plantrail disclosures`` and ``plantrail break-glass`` as a
user runs them (the console script in a subprocess), on the demo caseload of each store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plantrail.projections.access.access_log import AccessEntry, AccessLog
from plantrail.projections.assembly import open_service, recorder_of
from tests.support.cli import plantrail

Demo = tuple[str, Path, list[dict[str, Any]]]


def _users(db: str, keys: Path) -> None:
    # ``plantrail demo`` made the demo's users (dana-reyes, marcus-hill, ...); one more admin.
    plantrail("users", "add", "--id", "privacy", "--name", "Privacy Officer", "--role", "admin",
              db=db, keys=keys)  # fmt: skip


def test_the_clinician_issues_lists_and_revokes_a_clients_link(demo_store: Demo) -> None:
    db, keys, plans = demo_store
    _users(db, keys)
    jordan = next(p for p in plans if p["client"] == "Jordan Ellis")
    issued = json.loads(plantrail("client-access", "issue", jordan["plan_id"], "--as",
                                  "dana-reyes", "--days", "10", "--json", db=db,
                                  keys=keys).stdout)  # fmt: skip
    assert issued["token"].startswith("pc_")
    assert issued["client_name"] == "Jordan Ellis"
    assert issued["status"] == "active"

    other = plantrail("client-access", "issue", jordan["plan_id"], "--as", "marcus-hill",
                      db=db, keys=keys, check=False)  # fmt: skip
    assert other.returncode != 0
    assert "not the clinician" in other.stderr
    assert "Traceback" not in other.stderr
    bad = plantrail("client-access", "issue", jordan["plan_id"], "--as", "dana-reyes",
                    "--days", "400", db=db, keys=keys, check=False)  # fmt: skip
    assert bad.returncode != 0
    assert "365" in bad.stderr

    plantrail("client-access", "revoke", jordan["plan_id"], issued["grant_id"], "--as",
              "dana-reyes", db=db, keys=keys)  # fmt: skip
    listed = json.loads(plantrail("client-access", "list", jordan["plan_id"], "--json",
                                  db=db, keys=keys).stdout)  # fmt: skip
    assert [(g["grant_id"], g["status"]) for g in listed] == [(issued["grant_id"], "revoked")]

    seen = json.loads(plantrail("disclosures", jordan["plan_id"], "--json", db=db,
                                keys=keys).stdout)["disclosures"]  # fmt: skip
    assert [d["action"] for d in seen] == [
        "client-access:issue",
        "client-access:revoke",
        "client-access:list",
    ]
    assert {d["name"] for d in seen[:2]} == {"Dana Reyes"}
    # Listing without --as is the operator's read, accounted for like any other.
    assert seen[2]["user_id"].startswith("cli:")
    assert seen[2]["role"] == "operator"


def test_an_admin_reviews_a_break_glass_read(demo_store: Demo) -> None:
    db, keys, plans = demo_store
    _users(db, keys)
    jordan = next(p for p in plans if p["client"] == "Jordan Ellis")
    service = open_service(db, keys)
    try:
        recorder = recorder_of(service)
        log = AccessLog(recorder.engine, recorder.chain_key, service.clock)
        log.create_tables()
        seq = log.append(AccessEntry(
            method="GET", route="/plans/{plan_id}", user_id="marcus-hill", role="clinician",
            plan_id=jordan["plan_id"], action="view:plan", status=200, outcome="ok",
            break_glass_reason="Client in crisis; covering clinician tonight",
        ))  # fmt: skip
        log.close()
    finally:
        service.close()
        recorder.close()
    listed = json.loads(plantrail("break-glass", "list", "--unreviewed", "--json", db=db,
                                  keys=keys).stdout)  # fmt: skip
    assert [(r["seq"], r["user_id"]) for r in listed] == [(seq, "marcus-hill")]
    refused = plantrail("break-glass", "review", str(seq), "--as", "dana-reyes", "--note",
                        "fine", db=db, keys=keys, check=False)  # fmt: skip
    assert refused.returncode != 0
    assert "admin" in refused.stderr
    plantrail("break-glass", "review", str(seq), "--as", "privacy", "--note",
              "Confirmed with the on-call rota", db=db, keys=keys)  # fmt: skip
    assert json.loads(plantrail("break-glass", "list", "--unreviewed", "--json", db=db,
                                keys=keys).stdout) == []  # fmt: skip
    again = plantrail("break-glass", "review", str(seq), "--as", "privacy", "--note", "x",
                      db=db, keys=keys, check=False)  # fmt: skip
    assert again.returncode != 0
    assert "already reviewed" in again.stderr
