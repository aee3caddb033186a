"""Figure 5: bulk import from JSON Lines (``transfer.import_lines``: parse, check index
columns, recompute and compare every chain hash, insert in one transaction, fold each plan's
state and write the head snapshot of the long plans), in events/s, against the raw driver's
``executemany`` of the same rows (already decoded, in batches of 2,000 like the import, one
transaction) into an empty store of the same schema. Each round imports into a new, empty store.

The file is the export of a generated caseload (plans of about 100 events; see ``data``).
``extra`` splits the import into its event phase (up to the last batch insert) and the rest
(the last folds, the snapshot rows and the commit). When a second core is idle the import folds
in a forked child process, on that core, while the baseline uses one: the notes say in which
rounds, and line 5s gives the same import on one core in those rounds.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any
from uuid import UUID

import orjson

from plantrail.projections.store import transfer
from plantrail.projections.store.transfer import export_lines, import_lines
from tests.benchmarks import data
from tests.benchmarks.harness import Figure, Stores, close_service, is_sqlite, log, recorder
from tests.benchmarks.profiling import profiled

BATCH = 2000
GOAL = 0.25
COLUMNS = transfer.EVENT_COLUMNS  # the raw baseline inserts what the import inserts


def _raw_rows(lines: list[bytes], sqlite: bool) -> list[tuple[Any, ...]]:
    rows = []
    for line in lines[1:]:
        r = orjson.loads(line)
        plan = UUID(r["plan_id"])
        rows.append(
            (
                plan.hex if sqlite else plan,
                r["version"],
                r["topic"],
                r["state"].encode(),
                r["recorded_at_us"],
                r["effective_date"] if sqlite else date.fromisoformat(r["effective_date"]),
                r["command_id"],
                r["chain_hash"],
            )
        )
    return rows


def _raw_import(stores: Stores, url: str, rows: list[tuple[Any, ...]], sqlite: bool) -> float:
    conn = stores.raw_connect(url)
    marks = ", ".join(["?" if sqlite else "%s"] * len(COLUMNS))
    statement = f"INSERT INTO plantrail_events ({', '.join(COLUMNS)}) VALUES ({marks})"
    started = time.perf_counter()
    if sqlite:
        conn.execute("BEGIN IMMEDIATE")
        for n in range(0, len(rows), BATCH):
            conn.executemany(statement, rows[n : n + BATCH])
        conn.execute("COMMIT")
    else:
        with conn.cursor() as cur:
            for n in range(0, len(rows), BATCH):
                cur.executemany(statement, rows[n : n + BATCH])
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _timed_import(stores: Stores, lines: list[bytes]) -> tuple[float, float, int]:
    """(seconds, share before the last batch insert, snapshots) of one import into a new store."""
    target = stores.open(stores.new_url("fig5dst"))
    marks: list[float] = []
    started = time.perf_counter()
    result = import_lines(
        target, recorder(target), lines, progress=lambda _n, m=marks: m.append(time.perf_counter())
    )
    elapsed = time.perf_counter() - started
    assert result.events == len(lines) - 1
    close_service(target)
    return elapsed, (marks[-1] - started) / elapsed if marks else 0.0, result.snapshots


def run(stores: Stores, *, rounds: int, plans: int) -> list[Figure]:
    source_url = stores.new_url("fig5src")
    source = stores.open(source_url)
    sqlite = is_sqlite(source_url)
    made = data.templates(source, min(8, plans), 100)
    data.replicate_caseload(source, made, max(0, plans - len(made)))
    lines = list(export_lines(recorder(source)))
    close_service(source)
    events = len(lines) - 1
    rows = _raw_rows(lines, sqlite)
    log(
        f"  fig5 export of {plans:,} plans: {events:,} events, "
        f"{sum(len(x) for x in lines) / 2**20:.1f} MB"
    )
    values: list[float] = []
    single: list[tuple[float, int]] = []  # (events/s, round): the same import on one core
    raw: list[float] = []
    event_phase: list[float] = []
    in_child: list[bool] = []  # whether the round's import folded in a child process
    for n in range(rounds):
        in_child.append(transfer.folds_in_child())  # what the import is about to decide
        elapsed, phase, snapshots = _timed_import(stores, lines)
        values.append(events / elapsed)
        event_phase.append(phase)
        if in_child[-1]:
            transfer.FOLD_IN_CHILD = False
            try:
                single.append((events / _timed_import(stores, lines)[0], n))
            finally:
                transfer.FOLD_IN_CHILD = True
        raw_url = stores.new_url("fig5raw")
        close_service(stores.open(raw_url))  # the same tables, indexes and triggers
        raw.append(events / _raw_import(stores, raw_url, rows, sqlite))
        log(
            f"  fig5 round {n + 1}: import {values[-1]:,.0f} events/s "
            f"({event_phase[-1]:.0%} of it before the last batch insert, folding "
            + (f"in a child; {single[-1][0]:,.0f} on one core" if in_child[-1] else "on one core")
            + f"), raw executemany {raw[-1]:,.0f} rows/s; {snapshots} snapshots"
        )
    transfer.FOLD_IN_CHILD = False  # all of it in this process, where the profiler sees it
    try:
        profiled(
            f"fig5-{stores.backend}",
            lambda: _timed_import(stores, lines),
            note=f"figure 5: import of {events:,} events on one core",
        )
    finally:
        transfer.FOLD_IN_CHILD = True
    label = f"bulk import of JSON Lines, chains verified ({plans:,} plans, {events:,} events)"
    baseline = "raw driver executemany of the same rows, one transaction"
    figure = Figure(
        "5",
        label,
        stores.backend,
        "events/s",
        values,
        baseline,
        "rows/s",
        raw,
        [v / r for v, r in zip(values, raw, strict=True)],
        "× raw",
        f"≥ {GOAL}×",
        None,
        "share of import time spent up to the last batch insert: "
        + ", ".join(f"{x:.0%}" for x in event_phase)
        + "; plans folded in a child process (an idle second core) in rounds: "
        + (", ".join(str(n + 1) for n, child in enumerate(in_child) if child) or "none"),
        {
            "events": events,
            "plans": plans,
            "event_phase_share": event_phase,
            "fold_in_child": in_child,
        },
    )
    figure.met = (figure.ratio or 0) >= GOAL
    if not single:
        return [figure]
    reference = Figure(
        "5s",
        label.replace("chains verified", "chains verified, folding on one core"),
        stores.backend,
        "events/s",
        [v for v, _ in single],
        baseline,
        "rows/s",
        [raw[n] for _, n in single],
        [v / raw[n] for v, n in single],
        "× raw",
        "reference",
        None,
        "the same import with FOLD_IN_CHILD off, in the rounds that folded in a child",
        {"events": events, "plans": plans},
    )
    return [figure, reference]
