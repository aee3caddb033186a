"""Figure 1: commands/s through the engine, one event per command, everything on (chain hash,
command id record, snapshot every 50 versions, inline read models), against a raw driver
inserting ~300-byte rows with one commit each on the same store and the same durability
settings (SQLite: WAL with synchronous=FULL, as the engine insists; PostgreSQL: defaults).

The commands are what a clinician types most between reviews: scores, notes and barriers,
round-robin over ten plans that already hold a realistic intake (about 25 events) written
through the engine. The service runs on the real clock.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from plantrail.domain import commands as c
from plantrail.domain.service import utc_now
from tests.benchmarks import data
from tests.benchmarks.harness import Figure, Stores, close_service, is_sqlite, log
from tests.benchmarks.profiling import profiled

PLANS = 10
ROW = 300


def _commands(scripts: list[data.PlanScript], count: int) -> list[tuple[Any, c.PlanCommand]]:
    out = []
    today = datetime.now(UTC).date()
    for n in range(count):
        script = scripts[n % len(scripts)]
        kind = n % 5
        if kind == 3:
            command: c.PlanCommand = c.NoteStrength(text=f"Kept every appointment ({n}).")
        elif kind == 4:
            command = c.NoteBarrier(text=f"Shift pattern changed again in week {n}.")
        else:
            command = c.RecordMeasurement(
                instrument="PHQ-9" if kind < 2 else "GAD-7",
                score=10 + n % 7,
                administered_on=today,
                objective_id=script.ids["o0" if kind < 2 else "o1"],
            )
        out.append((script, command))
    return out


def _engine_round(scripts: list[data.PlanScript], count: int) -> float:
    work = _commands(scripts, count)
    metas = [c.CommandMeta(actor=s.actor, command_id=f"fig1-{uuid.uuid4().hex}") for s, _ in work]
    service = scripts[0].runner.service  # type: ignore[attr-defined]
    started = time.perf_counter()
    for (script, command), meta in zip(work, metas, strict=True):
        service.execute(script.plan_id, command, meta)
    return count / (time.perf_counter() - started)


def _raw_setup(conn: Any, sqlite: bool) -> None:
    if sqlite:
        conn.execute("CREATE TABLE raw_rows (id INTEGER PRIMARY KEY, plan_id TEXT, payload BLOB)")
    else:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE raw_rows (id BIGSERIAL PRIMARY KEY, plan_id UUID, payload BYTEA)"
            )
        conn.commit()


def _raw_round(conn: Any, sqlite: bool, count: int) -> float:
    rows = [(str(uuid.uuid4()), os.urandom(ROW)) for _ in range(count)]
    started = time.perf_counter()
    if sqlite:
        for row in rows:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO raw_rows (plan_id, payload) VALUES (?, ?)", row)
            conn.execute("COMMIT")
    else:
        for row in rows:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO raw_rows (plan_id, payload) VALUES (%s, %s)", row)
            conn.commit()
    return count / (time.perf_counter() - started)


def run(stores: Stores, *, rounds: int, commands: int) -> list[Figure]:
    url = stores.new_url("fig1")
    sqlite = is_sqlite(url)
    service = stores.open(url)
    clock = data.SimulatedClock()
    scripts = []
    for n in range(PLANS):
        script = data.PlanScript(data.EngineRunner(service, clock), 100 + n)
        script.intake()
        scripts.append(script)
    service.clock = utc_now
    raw_url = stores.new_url("fig1raw")
    raw = stores.raw_connect(raw_url)
    _raw_setup(raw, sqlite)
    relaxed = None
    if sqlite:
        from tests.benchmarks.harness import raw_connect

        relaxed = raw_connect(raw_url, synchronous="NORMAL")
    engine_values: list[float] = []
    raw_values: list[float] = []
    relaxed_values: list[float] = []
    _engine_round(scripts, max(10, commands // 10))  # warm the statement caches
    for n in range(rounds):
        engine_values.append(_engine_round(scripts, commands))
        raw_values.append(_raw_round(raw, sqlite, commands))
        if relaxed is not None:
            relaxed_values.append(_raw_round(relaxed, sqlite, commands))
        log(
            f"  fig1 round {n + 1}: engine {engine_values[-1]:,.0f} cmd/s, "
            f"raw {raw_values[-1]:,.0f} rows/s"
        )
    profiled(
        f"fig1-{stores.backend}",
        lambda: _engine_round(scripts, commands),
        note=f"figure 1: {commands} commands through PlanService.execute",
    )
    raw.close()
    if relaxed is not None:
        relaxed.close()
    close_service(service)
    goal = 0.5 if sqlite else 0.4
    ratios = [e / r for e, r in zip(engine_values, raw_values, strict=True)]
    figure = Figure(
        "1",
        "commands/s through the engine, 1 event/command, everything on",
        stores.backend,
        "cmd/s",
        engine_values,
        "raw driver, ~300-byte row, 1 commit each" + (" (WAL, synchronous=FULL)" if sqlite else ""),
        "rows/s",
        raw_values,
        ratios,
        "× raw",
        f"≥ {goal}×",
        None,
        f"{commands} commands per round over {PLANS} plans",
    )
    figure.met = figure.ratio is not None and figure.ratio >= goal
    out = [figure]
    if relaxed_values:
        ratios = [e / r for e, r in zip(engine_values, relaxed_values, strict=True)]
        reference = Figure(
            "1r",
            "commands/s through the engine (same runs) vs raw at synchronous=NORMAL",
            stores.backend,
            "cmd/s",
            engine_values,
            "raw driver, ~300-byte row, 1 commit each (WAL, synchronous=NORMAL: no fsync "
            "per commit)",
            "rows/s",
            relaxed_values,
            ratios,
            "× raw",
            "reference",
            None,
            "the engine keeps synchronous=FULL; this line shows what the fsync costs",
        )
        out.append(reference)
    return out
