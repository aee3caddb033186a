"""The command line as a user runs it: init, demo, events, verify, checkpoint, export, import.

Each test runs the real ``plantrail`` console script in a subprocess against a fresh store
(SQLite, and PostgreSQL when configured), and checks exit codes and what a user reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import create_engine, func, select, text

from plantrail.projections.store.schema import events


def plantrail(
    *args: str, db: str, keys: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PLANTRAIL_DATABASE_URL": db,
        "PLANTRAIL_KEY_DIR": str(keys),
        "COLUMNS": "200",
    }
    env.pop("PLANTRAIL_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "plantrail.api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"plantrail {' '.join(args)} failed: {result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def demo_store(store_url: str, tmp_path: Path) -> tuple[str, Path, list[dict[str, str]]]:
    keys = tmp_path / "cli-keys"
    plantrail("init", db=store_url, keys=keys)
    plans = json.loads(plantrail("demo", "--json", db=store_url, keys=keys).stdout)
    return store_url, keys, plans


def test_init_demo_verify(demo_store: tuple[str, Path, list[dict[str, str]]]) -> None:
    db, keys, plans = demo_store
    assert len(plans) >= 4
    assert {p["client"] for p in plans} >= {
        "Jordan Ellis",
        "Morgan Lee",
        "Riley Chen",
        "Casey Brooks",
    }
    report = json.loads(plantrail("verify", "--json", db=db, keys=keys).stdout)
    assert report["ok"] is True
    assert report["plans_checked"] == len(plans)
    assert report["events_checked"] > 100


def test_demo_refuses_a_store_that_has_plans(
    demo_store: tuple[str, Path, list[dict[str, str]]],
) -> None:
    db, keys, _ = demo_store
    again = plantrail("demo", db=db, keys=keys, check=False)
    assert again.returncode == 2
    assert "already holds" in again.stderr
    assert "Traceback" not in again.stderr


def test_events_shows_the_late_entry(demo_store: tuple[str, Path, list[dict[str, str]]]) -> None:
    db, keys, plans = demo_store
    ptsd = next(p for p in plans if p["client"] == "Riley Chen")
    history = json.loads(plantrail("events", ptsd["plan_id"], "--json", db=db, keys=keys).stdout)
    late = [e for e in history if e["late_entry"]]
    assert [e["type"] for e in late] == ["MeasurementRecorded"]
    assert late[0]["entry_kind"] == "delayed_entry"
    table = plantrail("events", ptsd["plan_id"], db=db, keys=keys).stdout
    assert "delayed_entry (late)" in table


def test_checkpoint_then_tail_deletion_is_detected(
    demo_store: tuple[str, Path, list[dict[str, str]]], tmp_path: Path
) -> None:
    db, keys, plans = demo_store
    folder = tmp_path / "checkpoints"
    written = json.loads(
        plantrail("checkpoint", "--out", str(folder), "--json", db=db, keys=keys).stdout
    )
    checkpoint = written["path"]
    assert plantrail("verify", "--checkpoint", checkpoint, db=db, keys=keys).returncode == 0

    victim = plans[0]["plan_id"]
    engine = create_engine(db)
    with engine.begin() as conn:  # an attacker with database access drops the guard first
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER plantrail_events_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER plantrail_events_append_only ON plantrail_events"))
        mine = events.c.originator_id == UUID(victim)
        newest = conn.execute(select(func.max(events.c.originator_version)).where(mine)).scalar()
        conn.execute(events.delete().where(mine, events.c.originator_version == newest))
    engine.dispose()

    plain = plantrail("verify", "--json", db=db, keys=keys, check=False)
    assert plain.returncode == 0, "a keyed chain alone cannot see a truncated tail"
    checked = plantrail(
        "verify", "--checkpoint", checkpoint, "--json", db=db, keys=keys, check=False
    )
    assert checked.returncode == 1
    problems = json.loads(checked.stdout)["problems"]
    assert [(p["plan_id"], p["kind"], p["version"]) for p in problems] == [
        (victim, "truncated", newest)
    ]
    refused = plantrail("checkpoint", "--out", str(folder), db=db, keys=keys, check=False)
    assert refused.returncode == 1
    assert "refusing to sign" in refused.stderr


def test_export_import_round_trip_and_refusal(
    demo_store: tuple[str, Path, list[dict[str, str]]], tmp_path: Path
) -> None:
    db, keys, plans = demo_store
    dump = tmp_path / "events.jsonl"
    plantrail("export", str(dump), db=db, keys=keys)
    lines = dump.read_text().splitlines()
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    plantrail("import", str(dump), db=target, keys=keys)
    restored = json.loads(plantrail("verify", "--json", db=target, keys=keys).stdout)
    assert restored["ok"]
    assert restored["events_checked"] == len(lines) - 1
    for plan in plans:
        original = plantrail("events", plan["plan_id"], "--json", db=db, keys=keys).stdout
        assert (
            plantrail("events", plan["plan_id"], "--json", db=target, keys=keys).stdout == original
        )

    # A tampered file is refused whole: nothing of it is stored.
    record = json.loads(lines[5])
    record["state"] = record["state"].replace("a", "e", 1)
    lines[5] = json.dumps(record)
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join(lines) + "\n")
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    refused = plantrail("import", str(forged), db=empty, keys=keys, check=False)
    assert refused.returncode == 2
    assert "line 6" in refused.stderr
    assert "nothing was imported" in refused.stderr
    after = json.loads(plantrail("verify", "--json", db=empty, keys=keys).stdout)
    assert after["events_checked"] == 0


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    keys = tmp_path / "k"
    db = f"sqlite:///{tmp_path / 'x.db'}"
    plantrail("init", db=db, keys=keys)
    for args in (("events", "not-a-plan"), ("verify", "--plan", "123"), ("events",), ("nonsense",)):
        result = plantrail(*args, db=db, keys=keys, check=False)
        assert result.returncode == 2, args
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert result.stderr.startswith("error:")
    mysql = plantrail("verify", db="mysql://nobody@localhost/x", keys=keys, check=False)
    assert mysql.returncode == 2
    assert "unsupported database" in mysql.stderr
