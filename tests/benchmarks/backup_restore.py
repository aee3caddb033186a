"""Backup and restore of a large SQLite caseload, timed through the command line.

    python -m tests.benchmarks.backup_restore [--plans 10000] [--events-per-plan 100] [--dir D]

Builds the caseload once (as figure 4 does: a few realistic template plans written with the
real commands, replicated under new ids with their chains recomputed) into ``D/store.db``
(kept, and reused by a later run with the same ``--dir``), then runs ``plantrail backup`` and
``plantrail restore`` on it as an operator would, each with ``--json``, and prints the copy and
verification times they report. Not a figure of ``run.py``: no baseline, one round.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plantrail.projections.integrity.keys import create_keys
from tests.benchmarks import data
from tests.support.stores import running_service


def _plantrail(*args: str, db: str, keys: Path) -> dict[str, object]:
    env = {**os.environ, "PLANTRAIL_DATABASE_URL": db, "PLANTRAIL_KEY_DIR": str(keys)}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "plantrail.api.cli", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"plantrail {' '.join(args)} failed: {result.stderr}")
    found: dict[str, object] = json.loads(result.stdout)
    found["wall_seconds"] = round(time.perf_counter() - started, 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--events-per-plan", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=None)
    options = parser.parse_args()
    work = options.dir or Path(tempfile.mkdtemp(prefix="plantrail-backup-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    keys = work / "keys"
    create_keys(keys)
    store = work / "store.db"
    url = f"sqlite:///{store}"
    if not store.exists():
        started = time.perf_counter()
        with running_service(url, keys) as service:
            made = data.templates(service, min(8, options.plans), options.events_per_plan)
            data.replicate_caseload(service, made, max(0, options.plans - len(made)))
        print(f"built {options.plans:,} plans in {time.perf_counter() - started:.1f} s: {store}")
    for leftover in ("backup.db", "backup.db.sha256", "restored.db"):
        (work / leftover).unlink(missing_ok=True)
    backup = _plantrail("backup", str(work / "backup.db"), "--keys-backed-up", db=url, keys=keys)
    restore = _plantrail(
        "restore", str(work / "backup.db"), db=f"sqlite:///{work / 'restored.db'}", keys=keys
    )
    for name, found in (("backup", backup), ("restore", restore)):
        print(
            f"{name}: {found['plans']:,} plans, {found['events']:,} events, "
            f"{int(found['bytes']) / 2**20:,.0f} MiB; copy {found['copy_seconds']} s, "  # type: ignore[call-overload]
            f"verify {found['verify_seconds']} s, command total {found['seconds']} s, "
            f"wall (with start-up) {found['wall_seconds']} s"
        )


if __name__ == "__main__":
    main()
