"""A stored write always has its access-log row: the row is stored in the same transaction as
the write's events (a pending row, chained by the group commit), so a crash between the write's
commit and its access-log row loses neither (docs/api.md, "The access log").

The crash is the access log's group commit failing for the write's request, as it does when the
process dies after the commit; "restarting" is a second app (a new process's access log) on the
same store, whose first commit chains what the lost request left pending.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest

from plantrail.domain.errors import StorageError
from plantrail.projections.access.access_log import AccessEntry
from tests.support.http import Practice, second_server
from tests.support.plans import full_plan


def _writes(running: Practice, plan_id: str, action: str) -> list[dict[str, Any]]:
    return [r for r in running.access_log(plan_id=plan_id) if r["action"] == action]


def test_a_write_stored_before_a_crash_has_its_access_log_row(
    running: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = full_plan(running.service)
    plan_id = str(plan["plan_id"])
    path = f"/plans/{plan_id}"
    assert running.request("dana", "GET", path).status_code == 200  # the log is running
    log = running.app.state.plantrail.access_log

    def lost(entry: AccessEntry) -> Future[int]:
        # The process dies after the write's commit, before its access-log row is written.
        future: Future[int] = Future()
        future.set_exception(StorageError("the process stopped"))
        return future

    monkeypatch.setattr(log, "submit", lost)
    answer = running.request("dana", "POST", path + "/strengths", json={"text": "Walks daily"})
    assert answer.status_code == 503  # the answer was withheld, but the write was stored
    assert running.service.load(plan["plan_id"]).version == plan["version"] + 1
    monkeypatch.undo()

    with second_server(running) as restarted:  # a new process: its first commit settles
        assert restarted.request("dana", "GET", path).status_code == 200
    [row] = _writes(running, plan_id, "NoteStrength")
    assert (row["user_id"], row["method"], row["status"], row["outcome"]) == (
        "dana-reyes",
        "POST",
        201,
        "ok",
    )
    assert running.verify_access_log()


def test_a_write_is_logged_once_with_its_final_answer(running: Practice) -> None:
    plan = full_plan(running.service)
    plan_id = str(plan["plan_id"])
    path = f"/plans/{plan_id}/strengths"
    key = {"Idempotency-Key": "once"}
    first = running.request("dana", "POST", path, json={"text": "Walks daily"}, headers=key)
    again = running.request("dana", "POST", path, json={"text": "Walks daily"}, headers=key)
    assert first.status_code == again.status_code == 201
    # One row per request: the write's (settled from its pending row) and the replay's.
    rows = _writes(running, plan_id, "NoteStrength")
    assert len(rows) == 2
    assert rows[0]["route"] == "/plans/{plan_id}/strengths"
    with second_server(running) as restarted:  # a new process's first commit adopts nothing
        restarted.request("dana", "GET", f"/plans/{plan_id}")
    assert len(_writes(running, plan_id, "NoteStrength")) == 2
    assert running.verify_access_log()
