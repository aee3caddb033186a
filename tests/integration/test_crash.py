"""kill -9 of a writer process under load: nothing acknowledged is lost, the chain
stays clean, and a retry of any command in flight at the kill stores nothing twice.

A writer process (``workers.crash_writer``) runs one thread per plan. It logs each command
(fsynced) before sending it and logs the service's answer (fsynced) after the service returns;
the parent SIGKILLs it at a random moment, 30 rounds on the same store. After each kill the
parent checks the store against the log and retries, with the same command id and payload,
every command that was started but not acknowledged: the ones that had committed must answer
with their stored result and store nothing new; the others are stored exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.integrity.keys import load_chain_key
from plantrail.projections.integrity.verify import verify
from plantrail.projections.store.schema import events
from tests.integration import workers
from tests.support.plans import open_plan

REPO_ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 30
PLANS = 4
FIRST_ACK_TIMEOUT = 120.0


def events_by_command(service: PlanService) -> dict[str, list[tuple[str, int]]]:
    """(plan, version) of the stored events of every command id."""
    with recorder_of(service).engine.connect() as conn:
        rows = conn.execute(
            select(events.c.command_id, events.c.originator_id, events.c.originator_version)
        ).all()
    found: dict[str, list[tuple[str, int]]] = {}
    for command_id, plan, version in rows:
        found.setdefault(command_id, []).append((str(plan), int(version)))
    return found


def event_count(service: PlanService) -> int:
    with recorder_of(service).engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def assert_stored_as_answered(
    stored: dict[str, list[tuple[str, int]]], command_id: str, result: dict[str, Any]
) -> None:
    """The command's events are in the store exactly where its answer says, once."""
    first = result["version"] - result["events"] + 1
    expected = [(result["plan_id"], v) for v in range(first, result["version"] + 1)]
    assert sorted(stored.get(command_id, [])) == expected, (
        f"{command_id}: events lost or duplicated"
    )


def kill_writer_at_random(
    ctx: Any,
    store_url: str,
    key_dir: Path,
    plans: list[str],
    log: Path,
    seed: int,
    rng: random.Random,
) -> None:
    """Start a writer, wait until it is writing, let it run a random while, then SIGKILL it."""
    process = ctx.Process(
        target=workers.crash_writer, args=(store_url, str(key_dir), plans, str(log), seed)
    )
    process.start()
    try:
        deadline = time.monotonic() + FIRST_ACK_TIMEOUT
        while not (log.exists() and b'"ack"' in log.read_bytes()):
            assert process.is_alive(), f"writer died before writing (exit {process.exitcode})"
            assert time.monotonic() < deadline, "writer acknowledged nothing"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 0.6))
    finally:
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
        process.join(30)
    assert process.exitcode == -signal.SIGKILL, (
        f"writer ended with {process.exitcode}, not by the kill"
    )


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_write_and_retries_store_nothing_twice(
    service: PlanService,
    store_url: str,
    key_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Writers are forked from a fork server that has imported plantrail once (not from this
    # process with its open connections): each round starts a clean process quickly. The fork
    # server takes this sys.path, so the repository must be on it to import tests.integration.
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.integration.workers"])
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    key = load_chain_key(key_dir)
    assert key is not None
    plans = [str(open_plan(service, mrn=f"MRN-{2000 + i}")) for i in range(PLANS)]

    acknowledged: dict[str, dict[str, Any]] = {}
    totals = {"started": 0, "acked": 0, "unacked": 0, "committed_unacked": 0, "retried_stored": 0}
    for round_no in range(ROUNDS):
        log = tmp_path / f"writer-{round_no}.log"
        kill_writer_at_random(ctx, store_url, key_dir, plans, log, round_no, rng)

        records = workers.read_log(log)
        errors = [r for r in records if r["kind"] == "error"]
        assert errors == [], f"seed {seed} round {round_no}: the writer was refused: {errors[:3]}"
        started = {r["id"]: r for r in records if r["kind"] == "start"}
        acks = {r["id"]: r["result"] for r in records if r["kind"] == "ack"}
        assert set(acks) <= set(started)
        acknowledged.update(acks)
        totals["started"] += len(started)
        totals["acked"] += len(acks)

        # Every acknowledged command's events are stored where its answer says.
        stored = events_by_command(service)
        for command_id, result in acks.items():
            assert_stored_as_answered(stored, command_id, result)
        report = verify(recorder_of(service), key)
        assert report.ok, f"seed {seed} round {round_no}: {report.problems}"

        # Retry every command in flight at the kill, with its id and exact payload.
        unacked = [started[i] for i in started if i not in acks]
        assert len(unacked) <= PLANS, (
            "one writer thread per plan: at most one command in flight each"
        )
        totals["unacked"] += len(unacked)
        for record in unacked:
            plan_id, command, meta = workers.rebuild(record)
            known = service.store.find_command(meta.command_id)
            before = event_count(service)
            answer = service.execute(plan_id, command, meta)
            stored = events_by_command(service)
            if known is not None:  # committed, but the kill came before the acknowledgement
                totals["committed_unacked"] += 1
                assert asdict(answer) == known.result
                assert event_count(service) == before, f"{meta.command_id}: the retry duplicated it"
            else:
                totals["retried_stored"] += 1
                assert event_count(service) == before + answer.events
                again = service.execute(plan_id, command, meta)
                assert again == answer
                assert event_count(service) == before + answer.events
            assert_stored_as_answered(stored, meta.command_id, asdict(answer))
            acknowledged[meta.command_id] = asdict(answer)

        # A few acknowledged commands retried too: the same answer, nothing new.
        before = event_count(service)
        for record in rng.sample(
            sorted(started.values(), key=lambda r: r["id"]), k=min(5, len(started))
        ):
            if record["id"] in acks:
                plan_id, command, meta = workers.rebuild(record)
                assert asdict(service.execute(plan_id, command, meta)) == acks[record["id"]]
        assert event_count(service) == before

    # At the end: every answer ever given still holds, the plans replay, the chain is clean.
    stored = events_by_command(service)
    for command_id, result in acknowledged.items():
        assert_stored_as_answered(stored, command_id, result)
    assert event_count(service) == PLANS + sum(r["events"] for r in acknowledged.values())
    for plan in plans:
        state = service.load(UUID(plan))
        assert state.version == max(v for refs in stored.values() for p, v in refs if p == plan)
    report = verify(recorder_of(service), key)
    assert report.ok, report.problems
    assert totals["acked"] > ROUNDS  # every round acknowledged at least one command
    print(
        f"\nkill -9 ({service.recorder.engine.dialect.name}, seed {seed}): {ROUNDS} rounds, "  # type: ignore[attr-defined]
        f"{totals['started']} commands started, {totals['acked']} acknowledged, 0 lost; "
        f"{totals['unacked']} unacknowledged: {totals['committed_unacked']} had committed "
        f"(retry stored nothing new), {totals['retried_stored']} had not (stored once on retry)"
    )
