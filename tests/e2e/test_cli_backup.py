"""``plantrail backup`` and ``plantrail restore`` as an operator runs them: the console script
in a subprocess on the demo store (SQLite, and PostgreSQL when configured), with what it prints
and its exit codes."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.cli import plantrail
from tests.support.stores import require_pg_tools

pytestmark = pytest.mark.slow


@pytest.fixture
def tools(store_url: str) -> None:
    require_pg_tools(store_url)


@pytest.fixture
def empty_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """Where to restore: a new SQLite file, or a new PostgreSQL database."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    parsed = make_url(store_url)
    name = f"plantrail_restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_backup_verifies_the_copy_against_the_checkpoint_and_restore_verifies_clean(
    demo_store: tuple[str, Path, list[dict[str, str]]],
    tools: None,
    empty_url: str,
    tmp_path: Path,
) -> None:
    db, keys, plans = demo_store
    plantrail("checkpoint", db=db, keys=keys)
    dest = tmp_path / "plantrail.backup"
    made = plantrail("backup", str(dest), "--keys-backed-up", db=db, keys=keys)
    assert "warning" not in made.stderr
    assert f"backup written: {dest}" in made.stdout
    assert f"verified OK: {len(plans)} plans" in made.stdout
    assert "against checkpoint" in made.stdout
    assert dest.is_file()
    assert (tmp_path / "plantrail.backup.sha256").is_file()
    assert dest.stat().st_mode & 0o777 == 0o600

    restored = plantrail("restore", str(dest), "--json", db=empty_url, keys=keys)
    summary = json.loads(restored.stdout)
    assert summary["ok"] is True
    assert summary["plans"] == len(plans)
    report = json.loads(plantrail("verify", "--json", db=empty_url, keys=keys).stdout)
    assert report["ok"] is True
    assert report["plans_checked"] == len(plans)
    assert report["events_checked"] == summary["events"]


def test_backup_without_keys_backed_up_warns_in_one_line(
    demo_store: tuple[str, Path, list[dict[str, str]]], tools: None, tmp_path: Path
) -> None:
    db, keys, _ = demo_store
    made = plantrail("backup", str(tmp_path / "b"), db=db, keys=keys)
    warning = [line for line in made.stderr.splitlines() if line.startswith("warning")]
    assert len(warning) == 1
    assert "holds no keys" in warning[0]
    assert str(keys) in warning[0]


def test_restore_refuses_a_store_with_events_without_force(
    demo_store: tuple[str, Path, list[dict[str, str]]], tools: None, tmp_path: Path
) -> None:
    db, keys, _ = demo_store
    dest = tmp_path / "b"
    plantrail("backup", str(dest), "--keys-backed-up", db=db, keys=keys)
    refused = plantrail("restore", str(dest), db=db, keys=keys, check=False)
    assert refused.returncode == 2
    assert "is not empty" in refused.stderr
    assert "--force" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "Traceback" not in refused.stderr
    forced = plantrail("restore", str(dest), "--force", db=db, keys=keys)
    assert "verified OK" in forced.stdout


def test_a_damaged_backup_is_refused_in_one_line(
    demo_store: tuple[str, Path, list[dict[str, str]]],
    tools: None,
    empty_url: str,
    tmp_path: Path,
) -> None:
    db, keys, _ = demo_store
    dest = tmp_path / "b"
    plantrail("backup", str(dest), "--keys-backed-up", db=db, keys=keys)
    data = bytearray(dest.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 8):
        data[i] ^= 0xFF
    dest.write_bytes(bytes(data))
    refused = plantrail("restore", str(dest), db=empty_url, keys=keys, check=False)
    assert refused.returncode == 2
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1
    assert "does not match its checksum" in errors[0]
    assert "Traceback" not in refused.stderr


def test_backup_errors_are_one_line(
    demo_store: tuple[str, Path, list[dict[str, str]]], tools: None, tmp_path: Path
) -> None:
    db, keys, _ = demo_store
    existing = tmp_path / "b"
    existing.write_text("keep")
    taken = plantrail("backup", str(existing), db=db, keys=keys, check=False)
    assert taken.returncode == 2
    assert "already exists; add --force" in taken.stderr
    assert existing.read_text() == "keep"
    nowhere = plantrail("backup", str(tmp_path / "no" / "b"), db=db, keys=keys, check=False)
    assert nowhere.returncode == 2
    assert "does not exist" in nowhere.stderr
    no_keys = plantrail("backup", str(tmp_path / "c"), db=db, keys=tmp_path / "none", check=False)
    assert no_keys.returncode == 2
    assert "no keys" in no_keys.stderr
    assert not (tmp_path / "c").exists()
    missing = plantrail("restore", str(tmp_path / "nothing"), db=db, keys=keys, check=False)
    assert missing.returncode == 2
    assert "is not a file" in missing.stderr
    for result in (taken, nowhere, no_keys, missing):
        assert "Traceback" not in result.stderr
