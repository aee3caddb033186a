"""``plantrail migrate`` as a user runs it, and the one-line refusal of a store whose schema is
not this plantrail's (ADR 0019), on both stores."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from plantrail.projections.migrations import HEAD, REVISIONS
from plantrail.projections.store.engine import create_store_engine
from tests.support.cli import plantrail
from tests.support.stores import build_old_schema


def test_an_old_store_is_refused_in_one_line_until_migrated(store_url: str, key_dir: Path) -> None:
    engine = create_store_engine(store_url)
    try:
        build_old_schema(engine, "before-hand-overs")
    finally:
        engine.dispose()

    refused = plantrail("caseload", db=store_url, keys=key_dir, check=False)
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines() == [
        "error: the store is at schema none (made before plantrail recorded schema versions); "
        f"this plantrail needs {HEAD}: run `plantrail migrate`"
    ]

    planned = plantrail("migrate", "--dry-run", db=store_url, keys=key_dir).stdout
    assert f"this plantrail needs {HEAD}. Pending steps:" in planned
    assert [line.split()[0] for line in planned.splitlines()[1:]] == list(REVISIONS)
    assert plantrail("caseload", db=store_url, keys=key_dir, check=False).returncode != 0

    done = plantrail("migrate", db=store_url, keys=key_dir).stdout
    assert done.splitlines()[-1] == f"the store was at schema none (made before plantrail " \
        f"recorded schema versions) and is now at {HEAD}"  # fmt: skip
    again = plantrail("migrate", db=store_url, keys=key_dir).stdout
    assert "nothing to do" in again
    plantrail("verify", db=store_url, keys=key_dir)
    plantrail("caseload", db=store_url, keys=key_dir)


def test_a_newer_store_is_refused_by_every_command(store_url: str, key_dir: Path) -> None:
    plantrail("init", db=store_url, keys=key_dir)
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE plantrail_schema_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    for command in (["verify"], ["migrate"], ["migrate", "--dry-run"]):
        refused = plantrail(*command, db=store_url, keys=key_dir, check=False)
        assert refused.returncode != 0
        assert refused.stderr.strip() == (
            f"error: the store is at schema 9999; this plantrail needs {HEAD}: a newer plantrail "
            "upgraded it, so run that version (migrations only go forward)"
        )
