"""Code that runs in worker processes of the reliability tests (concurrency and crash).

Workers start as clean processes (``spawn``, or ``forkserver`` for the crash rounds) and each
opens its own ``PlanService`` on the test's store, exactly as a second application process
would. They report back through files, never through shared Python objects, so that a SIGKILL
leaves behind only what was durably written.
"""

from __future__ import annotations

import json
import os
import random
import threading
import traceback
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from plantrail.domain import commands as c
from plantrail.domain.errors import ConcurrentWrite, StaleVersion
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import open_service
from tests.support.plans import CLINICIAN

BARRIER_TIMEOUT = 180.0
"""Generous: CI runs the suite on two busy cores; a broken barrier means a worker died."""


def _write_json(path: str, data: Any) -> None:
    Path(path).write_text(json.dumps(data))


def _report_crash(path: str) -> None:
    _write_json(path, {"crashed": traceback.format_exc()})


# ------------------------------------------------------------------ same-version race
def race_worker(
    store_url: str,
    key_dir: str,
    plan_id: str,
    process_index: int,
    threads: int,
    rounds: int,
    use_expected_version: bool,
    barriers: tuple[Any, ...],
    out_path: str,
) -> None:
    """``threads`` writers, each doing ``rounds`` rounds in lock-step with every other writer.

    Per round: wait at the first barrier (the previous round is over), read the plan's version,
    wait at the second barrier (every writer has read), then write one NoteStrength, naming the
    version read as ``expected_version`` when asked to. Each outcome is written to ``out_path``.
    """
    try:
        service = open_service(store_url, Path(key_dir))
        plan = UUID(plan_id)
        outcomes: list[dict[str, Any]] = []
        lock = threading.Lock()
        failures: list[str] = []

        def writer(thread_index: int) -> None:
            try:
                for round_no in range(rounds):
                    barriers[0].wait(BARRIER_TIMEOUT)
                    read = service.load(plan).version
                    barriers[-1].wait(BARRIER_TIMEOUT)
                    command_id = f"race-{round_no}-{process_index}-{thread_index}"
                    text = (
                        f"Round {round_no}: strength noted by writer {process_index}.{thread_index}"
                    )
                    meta = c.CommandMeta(
                        actor=CLINICIAN,
                        command_id=command_id,
                        expected_version=read if use_expected_version else None,
                    )
                    outcome: dict[str, Any] = {
                        "round": round_no,
                        "writer": f"{process_index}.{thread_index}",
                        "command_id": command_id,
                        "text": text,
                        "read": read,
                    }
                    try:
                        result = service.execute(plan, c.NoteStrength(text=text), meta)
                    except (ConcurrentWrite, StaleVersion) as refused:
                        outcome.update(outcome="refused", error=type(refused).__name__)
                    except Exception as other:  # reported, and the test fails on it
                        outcome.update(outcome="error", error=f"{type(other).__name__}: {other}")
                    else:
                        outcome.update(outcome="won", version=result.version, events=result.events)
                    with lock:
                        outcomes.append(outcome)
            except Exception:
                with lock:
                    failures.append(traceback.format_exc())
                for barrier in barriers:
                    barrier.abort()  # release the others at once instead of at the timeout

        pool = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        service.close()
        service.recorder.close()  # type: ignore[attr-defined]
        _write_json(out_path, {"outcomes": outcomes, "failures": failures})
    except Exception:
        _report_crash(out_path)
        for barrier in barriers:
            barrier.abort()


# ---------------------------------------------------------------------- crash writer
class DurableLog:
    """An append-only log of JSON lines; each line is flushed and fsynced before ``write``
    returns, so whatever the parent reads after a SIGKILL was really written before it."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record) + "\n").encode()
        with self._lock:
            os.write(self._fd, line)  # one write per line: lines never interleave
            os.fsync(self._fd)


def read_log(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a crash-writer log (a line torn by the kill is ignored: its
    command was never sent, because the start line is written before the command)."""
    records = []
    for line in path.read_bytes().split(b"\n"):
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def crash_command(rng: random.Random, sequence: int) -> c.PlanCommand:
    """A realistic small write: a strength, a barrier or a PHQ-9 score."""
    kind = rng.choice(("strength", "barrier", "measurement"))
    if kind == "strength":
        return c.NoteStrength(
            text=f"Kept {rng.randint(1, 7)} of 7 planned activities (#{sequence})"
        )
    if kind == "barrier":
        return c.NoteBarrier(text=f"Missed session {sequence}: transport fell through")
    return c.RecordMeasurement(
        instrument="PHQ-9", score=rng.randint(0, 27), administered_on=date(2026, 3, 2)
    )


def rebuild(record: dict[str, Any]) -> tuple[UUID, c.PlanCommand, c.CommandMeta]:
    """The exact command and envelope a ``start`` log line describes (for a retry)."""
    command_class = getattr(c, record["type"])
    command = command_class.model_validate(record["command"])
    meta = c.CommandMeta.model_validate(record["meta"])
    return UUID(record["plan"]), command, meta


def crash_writer(
    store_url: str, key_dir: str, plan_ids: list[str], log_path: str, seed: int
) -> None:
    """One thread per plan writes commands as fast as it can until the process is killed.

    Each command is logged as ``start`` (with everything needed to retry it) before it is sent
    and as ``ack`` (with the service's answer) after the service returns. Every write names the
    version the thread last saw, so a retry of a command that did commit can only succeed
    through the idempotency record, never by accident.
    """
    log = DurableLog(log_path)
    service: PlanService = open_service(store_url, Path(key_dir))

    def write_forever(index: int, plan_id: str) -> None:
        rng = random.Random(seed * 1000 + index)
        plan = UUID(plan_id)
        version = service.load(plan).version
        sequence = 0
        while True:
            sequence += 1
            command = crash_command(rng, sequence)
            meta = c.CommandMeta(
                actor=CLINICIAN,
                command_id=f"crash-{seed}-{index}-{sequence}",
                expected_version=version,
            )
            log.write(
                {
                    "kind": "start",
                    "id": meta.command_id,
                    "plan": plan_id,
                    "type": type(command).__name__,
                    "command": command.model_dump(mode="json"),
                    "meta": meta.model_dump(mode="json"),
                }
            )
            try:
                result = service.execute(plan, command, meta)
            except Exception as error:  # none expected: this thread is the plan's only writer
                log.write({"kind": "error", "id": meta.command_id, "error": repr(error)})
                version = service.load(plan).version
                continue
            log.write({"kind": "ack", "id": meta.command_id, "result": asdict(result)})
            version = result.version

    threads = [
        threading.Thread(target=write_forever, args=(i, plan), daemon=True)
        for i, plan in enumerate(plan_ids)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # forever: the parent ends this process with SIGKILL
