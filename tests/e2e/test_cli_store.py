"""The command line as a user runs it: init, demo, events, verify, checkpoint, export, import.

Each test runs the real ``plantrail`` console script in a subprocess against a fresh store
(SQLite, and PostgreSQL when configured), and checks exit codes and what a user reads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import create_engine, func, select, text

from plantrail.projections.store.schema import events
from tests.support.cli import plantrail
from tests.support.stores import PG_ENV, postgres_schema_url


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


def test_demo_prints_each_plan_id_with_its_client_on_one_line(tmp_path: Path) -> None:
    db, keys = f"sqlite:///{tmp_path / 'listed.db'}", tmp_path / "listed-keys"
    plantrail("init", db=db, keys=keys)
    printed = plantrail("demo", db=db, keys=keys).stdout
    lines = printed.splitlines()
    listed = [line for line in lines if re.match(r"^  [0-9a-f-]{36}  ", line)]
    assert len(listed) == 7, printed
    for line in listed:
        plan_id, who = line.strip().split("  ", 1)
        assert UUID(plan_id)
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ \(MRN-\d+\), [A-Z][a-z]+ [A-Z][a-z]+", who)
    first = listed[0].split()[0]
    assert f"plantrail events {first[:8]}" in printed


def test_commands_take_a_start_of_the_id_or_the_client_mrn(
    demo_store: tuple[str, Path, list[dict[str, str]]],
) -> None:
    db, keys, plans = demo_store
    ptsd = next(p for p in plans if p["client"] == "Riley Chen")
    full = plantrail("events", ptsd["plan_id"], "--json", db=db, keys=keys).stdout
    assert plantrail("events", ptsd["plan_id"][:8], "--json", db=db, keys=keys).stdout == full
    assert plantrail("events", ptsd["client_id"], "--json", db=db, keys=keys).stdout == full
    shown = plantrail("show", ptsd["client_id"], db=db, keys=keys).stdout
    assert "renew or discharge" in shown, "the plan ends before its next review"
    depression = next(p for p in plans if p["client"] == "Jordan Ellis")
    jordan = plantrail("show", depression["client_id"], db=db, keys=keys).stdout
    assert "Safety plan" in jordan
    assert "988 Suicide and Crisis Lifeline (crisis line, 988)" in jordan
    group = next(p for p in plans if p["client"] == "Casey Brooks")
    assert (
        "Participants: Casey Brooks (group member"
        in plantrail("show", group["client_id"], db=db, keys=keys).stdout
    )
    verified = json.loads(
        plantrail("verify", "--plan", ptsd["plan_id"][:6], "--json", db=db, keys=keys).stdout
    )
    assert verified["ok"] is True
    caseload = plantrail("caseload", db=db, keys=keys).stdout
    [row] = [line for line in caseload.splitlines() if ptsd["client_id"] in line]
    assert "renewal" in row, caseload


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("zzzz", "no plan id, start of a plan id or client MRN matches 'zzzz'"),
        ("MRN-00000", "no plan id, start of a plan id or client MRN matches 'MRN-00000'"),
    ],
)
def test_an_unknown_plan_reference_is_one_line(
    demo_store: tuple[str, Path, list[dict[str, str]]], reference: str, expected: str
) -> None:
    db, keys, _ = demo_store
    refused = plantrail("events", reference, db=db, keys=keys, check=False)
    assert refused.returncode != 0
    assert expected in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout


def test_checkpoint_says_where_it_wrote_and_the_path_verifies(
    demo_store: tuple[str, Path, list[dict[str, str]]],
) -> None:
    db, keys, _ = demo_store
    printed = plantrail("checkpoint", db=db, keys=keys).stdout
    found = re.search(r"checkpoint written: (\S+\.json)", printed)
    assert found, printed
    written = Path(found.group(1))
    assert written.is_absolute()
    assert written.is_file()
    assert written.parent == (keys.parent / "checkpoints").resolve()
    assert f"plantrail verify --checkpoint {written}" in " ".join(printed.split())
    checked = plantrail("verify", "--checkpoint", str(written), db=db, keys=keys)
    assert checked.returncode == 0


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


def _empty_store_like(db: str, tmp_path: Path, name: str, pg_database: str | None) -> str:
    """A new, empty store on the same database as ``db``."""
    if db.startswith("sqlite"):
        return f"sqlite:///{tmp_path / (name + '.db')}"
    assert pg_database is not None
    return postgres_schema_url(pg_database)


def _refused_one_line(
    source: Path, db: str, keys: Path, *expected: str
) -> subprocess.CompletedProcess[str]:
    refused = plantrail("import", str(source), db=db, keys=keys, check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.startswith("error:")
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert "nothing was imported" in refused.stderr
    for part in expected:
        assert part in refused.stderr
    return refused


def test_import_refusals_are_one_line_and_store_nothing(
    demo_store: tuple[str, Path, list[dict[str, str]]], tmp_path: Path, pg_database: str | None
) -> None:
    db, keys, _ = demo_store
    dump = tmp_path / "events.jsonl"
    plantrail("export", str(dump), db=db, keys=keys)
    lines = dump.read_text().splitlines()
    before = json.loads(plantrail("verify", "--json", db=db, keys=keys).stdout)

    # The store already holds these plans: a conflicting plan, refused whole.
    _refused_one_line(dump, db, keys, "line 2", "already exists in this store")
    after = json.loads(plantrail("verify", "--json", db=db, keys=keys).stdout)
    assert after["events_checked"] == before["events_checked"]

    broken = json.loads(lines[40])
    broken["chain_hash"] = "f" * 64
    duplicated = [*lines[:31], lines[30], *lines[31:]]
    cases = {
        "broken": ([*lines[:40], json.dumps(broken), *lines[41:]], ("line 41", "hash chain")),
        "duplicate": (duplicated, ("line 32", "expected version")),
    }
    for name, (content, expected) in cases.items():
        bad = tmp_path / f"{name}.jsonl"
        bad.write_text("\n".join(content) + "\n")
        target = _empty_store_like(db, tmp_path, name, pg_database)
        _refused_one_line(bad, target, keys, *expected)
        empty = json.loads(plantrail("verify", "--json", db=target, keys=keys).stdout)
        assert empty["events_checked"] == 0


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason="needs PostgreSQL")
def test_migration_sqlite_to_postgresql_and_back(tmp_path: Path, pg_database: str | None) -> None:
    assert pg_database is not None
    keys = tmp_path / "keys"
    sqlite_db = f"sqlite:///{tmp_path / 'first.db'}"
    plantrail("init", db=sqlite_db, keys=keys)
    plans = json.loads(plantrail("demo", "--json", db=sqlite_db, keys=keys).stdout)
    first = tmp_path / "first.jsonl"
    plantrail("export", str(first), db=sqlite_db, keys=keys)

    postgres_db = postgres_schema_url(pg_database)
    plantrail("init", db=postgres_db, keys=keys)
    imported = plantrail("import", str(first), db=postgres_db, keys=keys)
    assert "chains verified" in imported.stdout
    assert json.loads(plantrail("verify", "--json", db=postgres_db, keys=keys).stdout)["ok"]
    second = tmp_path / "second.jsonl"
    plantrail("export", str(second), db=postgres_db, keys=keys)
    assert second.read_bytes() == first.read_bytes()

    back_db = f"sqlite:///{tmp_path / 'back.db'}"
    plantrail("import", str(second), db=back_db, keys=keys)
    report = json.loads(plantrail("verify", "--json", db=back_db, keys=keys).stdout)
    assert report["ok"]
    assert report["events_checked"] == len(first.read_text().splitlines()) - 1
    for plan in plans:
        original = plantrail("events", plan["plan_id"], "--json", db=sqlite_db, keys=keys).stdout
        assert plantrail("events", plan["plan_id"], "--json", db=back_db, keys=keys).stdout == (
            original
        )


def test_files_holding_health_data_are_private(
    demo_store: tuple[str, Path, list[dict[str, str]]], tmp_path: Path
) -> None:
    """The database init makes (with its -wal and -shm), JSON Lines and FHIR exports and
    checkpoints are readable by their owner only under the usual umask; an export is not
    written over an earlier one without --force."""
    db, keys, _ = demo_store
    if db.startswith("sqlite"):
        database = Path(db.removeprefix("sqlite:///"))
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            if path.exists():
                assert path.stat().st_mode & 0o777 == 0o600, path
    lines = tmp_path / "backup.jsonl"
    plantrail("export", str(lines), db=db, keys=keys)
    assert lines.stat().st_mode & 0o777 == 0o600
    again = plantrail("export", str(lines), db=db, keys=keys, check=False)
    assert again.returncode == 2
    assert "add --force" in again.stderr
    plantrail("export", str(lines), "--force", db=db, keys=keys)
    folder = tmp_path / "fhir"
    plantrail("export", str(folder), "--fhir", db=db, keys=keys)
    assert folder.stat().st_mode & 0o777 == 0o700
    files = list(folder.iterdir())
    assert files
    assert {f.stat().st_mode & 0o777 for f in files} == {0o600}
    refused = plantrail("export", str(folder), "--fhir", db=db, keys=keys, check=False)
    assert refused.returncode == 2
    assert "add --force" in refused.stderr
    plantrail("export", str(folder), "--fhir", "--force", db=db, keys=keys)
    printed = plantrail("checkpoint", db=db, keys=keys).stdout
    found = re.search(r"checkpoint written: (\S+\.json)", printed)
    assert found, printed
    written = Path(found.group(1))
    assert written.stat().st_mode & 0o777 == 0o600
    assert written.parent.stat().st_mode & 0o777 == 0o700
