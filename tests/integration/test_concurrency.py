"""Concurrent writers on one plan, from several processes and threads at once.

Same-version race: 4 processes × 4 threads × 50 rounds. In every round all 16 writers read the
same version (barriers hold them together), then all write naming that version: exactly one may
win, every other must be refused as ``ConcurrentWrite`` or ``StaleVersion`` and store nothing.
Without an expected version, concurrent writers either succeed or are refused as
``ConcurrentWrite``, and no acknowledged write is lost.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.integrity.keys import load_chain_key
from plantrail.projections.integrity.verify import verify
from plantrail.projections.store.schema import commands, events
from tests.integration import workers
from tests.support.plans import open_plan

REPO_ROOT = Path(__file__).resolve().parents[2]
JOIN_TIMEOUT = 600


def run_race(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    store_url: str,
    key_dir: Path,
    plan_id: UUID,
    *,
    processes: int,
    threads: int,
    rounds: int,
    use_expected_version: bool,
) -> list[dict[str, Any]]:
    """Run ``race_worker`` in ``processes`` fresh interpreters; every writer's outcomes."""
    # A spawned child gets the parent's sys.path; put the repository on it so that the child
    # can import tests.integration.workers whatever pytest's import mode is (restored after).
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    ctx = multiprocessing.get_context("spawn")
    writers = processes * threads
    barriers = (ctx.Barrier(writers), ctx.Barrier(writers))
    outputs = [tmp_path / f"race-{i}.json" for i in range(processes)]
    pool = [
        ctx.Process(
            target=workers.race_worker,
            args=(
                store_url,
                str(key_dir),
                str(plan_id),
                i,
                threads,
                rounds,
                use_expected_version,
                barriers,
                str(outputs[i]),
            ),
        )
        for i in range(processes)
    ]
    for process in pool:
        process.start()
    for process in pool:
        process.join(JOIN_TIMEOUT)
    hung = [p.pid for p in pool if p.is_alive()]
    for process in pool:
        if process.is_alive():
            process.kill()
            process.join()
    assert not hung, f"worker processes {hung} did not finish"
    outcomes: list[dict[str, Any]] = []
    for process, output in zip(pool, outputs, strict=True):
        assert process.exitcode == 0, f"worker exited with {process.exitcode}"
        data = json.loads(output.read_text())
        assert "crashed" not in data, data.get("crashed")
        assert data["failures"] == [], data["failures"]
        outcomes.extend(data["outcomes"])
    assert len(outcomes) == writers * rounds
    return outcomes


def stored_command_ids(
    service: PlanService, plan_id: UUID
) -> tuple[list[tuple[int, str]], set[str]]:
    """(version, command id) of every stored event of the plan, and every recorded command id."""
    engine = recorder_of(service).engine
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.originator_version, events.c.command_id)
            .where(events.c.originator_id == plan_id)
            .order_by(events.c.id)
        ).all()
        recorded = set(conn.execute(select(commands.c.command_id)).scalars())
    return [(int(v), cid) for v, cid in rows], recorded


def assert_history_holds_exactly(
    service: PlanService,
    key_dir: Path,
    plan_id: UUID,
    winners: list[dict[str, Any]],
    losers: list[dict[str, Any]],
) -> None:
    """Versions 1..N contiguous, N = 1 + winners, each winner's event at its version, no loser's
    command anywhere, the plan's strengths are the winners' and the chain verifies clean."""
    rows, recorded = stored_command_ids(service, plan_id)
    versions = [v for v, _ in rows]
    assert versions == list(range(1, len(versions) + 1)), "versions are not contiguous"
    assert len(rows) == 1 + len(winners), "events lost or duplicated"
    by_version = dict(rows)
    for win in winners:
        assert by_version[win["version"]] == win["command_id"]
    stored_ids = [cid for _, cid in rows]
    assert len(set(stored_ids)) == len(stored_ids), "a command was stored twice"
    for lose in losers:
        assert lose["command_id"] not in stored_ids
        assert lose["command_id"] not in recorded
    state = service.load(plan_id)
    assert state.version == len(rows)
    assert sorted(s.text for s in state.strengths) == sorted(w["text"] for w in winners)
    key = load_chain_key(key_dir)
    assert key is not None
    report = verify(recorder_of(service), key)
    assert report.ok, report.problems
    assert report.events_checked == len(rows)


@pytest.mark.slow
def test_same_version_race_has_exactly_one_winner_per_round(
    service: PlanService,
    store_url: str,
    key_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    processes, threads, rounds = 4, 4, 50
    plan_id = open_plan(service)
    outcomes = run_race(
        monkeypatch,
        tmp_path,
        store_url,
        key_dir,
        plan_id,
        processes=processes,
        threads=threads,
        rounds=rounds,
        use_expected_version=True,
    )

    by_round: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for outcome in outcomes:
        by_round[outcome["round"]].append(outcome)
    assert sorted(by_round) == list(range(rounds))
    for round_no, round_outcomes in sorted(by_round.items()):
        assert {o["read"] for o in round_outcomes} == {1 + round_no}, (
            f"round {round_no}: writers did not all read the same version"
        )
        won = [o for o in round_outcomes if o["outcome"] == "won"]
        assert len(won) == 1, f"round {round_no}: {len(won)} winners"
        assert won[0]["version"] == won[0]["read"] + 1
    unexpected = [o for o in outcomes if o["outcome"] == "error"]
    assert unexpected == [], unexpected[:5]

    winners = [o for o in outcomes if o["outcome"] == "won"]
    losers = [o for o in outcomes if o["outcome"] == "refused"]
    assert len(winners) == rounds
    assert len(losers) == rounds * (processes * threads - 1)
    kinds = Counter(o["error"] for o in losers)
    assert set(kinds) <= {"ConcurrentWrite", "StaleVersion"}
    assert_history_holds_exactly(service, key_dir, plan_id, winners, losers)
    print(
        f"\nsame-version race ({service.recorder.engine.dialect.name}): "  # type: ignore[attr-defined]
        f"{rounds} rounds, {len(winners)} winners, {len(losers)} losers "
        f"({kinds['ConcurrentWrite']} ConcurrentWrite, {kinds['StaleVersion']} StaleVersion), "
        f"0 other errors, versions 1..{1 + len(winners)}"
    )


@pytest.mark.slow
def test_writers_without_expected_version_lose_no_update(
    service: PlanService,
    store_url: str,
    key_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    processes, threads, rounds = 2, 4, 10
    plan_id = open_plan(service)
    outcomes = run_race(
        monkeypatch,
        tmp_path,
        store_url,
        key_dir,
        plan_id,
        processes=processes,
        threads=threads,
        rounds=rounds,
        use_expected_version=False,
    )

    unexpected = [o for o in outcomes if o["outcome"] == "error"]
    assert unexpected == [], unexpected[:5]
    refused = [o for o in outcomes if o["outcome"] == "refused"]
    assert {o["error"] for o in refused} <= {"ConcurrentWrite"}
    winners = [o for o in outcomes if o["outcome"] == "won"]
    for round_no in range(rounds):
        assert any(o["round"] == round_no for o in winners), f"round {round_no}: nobody won"
    versions = [o["version"] for o in winners]
    assert len(set(versions)) == len(versions), "two writers were told they wrote the same version"
    assert_history_holds_exactly(service, key_dir, plan_id, winners, refused)
    print(
        f"\nno expected version ({service.recorder.engine.dialect.name}): "  # type: ignore[attr-defined]
        f"{len(outcomes)} writes, {len(winners)} stored, {len(refused)} ConcurrentWrite, 0 lost"
    )
