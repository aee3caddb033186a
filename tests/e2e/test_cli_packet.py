"""``plantrail packet`` and ``plantrail verify-packet`` as a practice runs them for an auditor.

The real console script in a subprocess against a demo store (SQLite, and PostgreSQL when
configured): the packet is written, verifies against the store, stops verifying once an entry
is edited behind the store's back, is refused to a user outside the plan's reach, and bad
input gets one readable line.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import orjson
import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, delete, select, update

from plantrail.projections.store.schema import events, snapshots
from tests.integration.test_tamper import drop_append_only_triggers
from tests.support.cli import plantrail

Store = tuple[str, Path, dict[str, str]]


@pytest.fixture
def riley(demo_store: tuple[str, Path, list[dict[str, str]]]) -> Store:
    db, keys, plans = demo_store
    return db, keys, next(p for p in plans if p["client"] == "Riley Chen")


def _period() -> tuple[str, str]:
    today = datetime.now(UTC).date()
    return (today - timedelta(days=730)).isoformat(), today.isoformat()


def _packet(store: Store, out: Path, *extra: str, check: bool = True) -> tuple[int, str, str]:
    db, keys, plan = store
    start, end = _period()
    result = plantrail(
        "packet", plan["client_id"], "--from", start, "--to", end, "-o", str(out), *extra,
        db=db, keys=keys, check=check,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def test_a_packet_is_written_and_verifies_against_the_store(riley: Store, tmp_path: Path) -> None:
    db, keys, plan = riley
    out = tmp_path / "riley.pdf"
    _, printed, _ = _packet(riley, out, "--practice", "Harbor Counseling")
    reader = PdfReader(out)
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Riley Chen" in text
    assert "Harbor Counseling" in text
    digest = next(line.split()[-1] for line in printed.splitlines() if "packet digest" in line)
    assert digest.startswith("sha256:")
    assert digest in text.replace("\n", " ")

    checked = json.loads(plantrail("verify-packet", str(out), "--json", db=db, keys=keys).stdout)
    assert checked["matches"] is True
    assert checked["plan_id"] == plan["plan_id"]
    assert "matches the record" in plantrail("verify-packet", str(out), db=db, keys=keys).stdout

    logged = json.loads(
        plantrail("access-log", "--plan", plan["plan_id"], "--json", db=db, keys=keys).stdout
    )
    start, end = _period()
    # The packet, then each verify-packet's rebuild from the store: every read is in the log.
    assert [r["action"] for r in logged] == [
        f"packet:{start}..{end}:pdf",
        "view:verify-packet",
        "view:verify-packet",
    ]
    assert {r["outcome"] for r in logged} == {"ok"}


def test_an_entry_edited_in_the_store_makes_the_packet_fail(riley: Store, tmp_path: Path) -> None:
    db, keys, plan = riley
    out = tmp_path / "riley.pdf"
    _packet(riley, out)
    plan_id = UUID(plan["plan_id"])
    engine = create_engine(db)
    with engine.begin() as conn:
        drop_append_only_triggers(conn)
        rows = conn.execute(
            select(events.c.originator_version, events.c.state)
            .where(events.c.originator_id == plan_id)
            .order_by(events.c.originator_version)
        ).all()
        version, state = next(
            (row.originator_version, orjson.loads(bytes(row.state)))
            for row in rows
            if "statement" in orjson.loads(bytes(row.state))
        )
        state["statement"] += " (edited)"
        conn.execute(
            update(events)
            .where(events.c.originator_id == plan_id)
            .where(events.c.originator_version == version)
            .values(state=orjson.dumps(state))
        )
        conn.execute(delete(snapshots))
    engine.dispose()

    result = plantrail("verify-packet", str(out), db=db, keys=keys, check=False)
    assert result.returncode == 1
    assert "does not match the record" in result.stdout
    assert "part differs" in result.stdout
    checked = json.loads(
        plantrail("verify-packet", str(out), "--json", db=db, keys=keys, check=False).stdout
    )
    assert checked["matches"] is False
    assert "plan" in [d["part"] for d in checked["differing_parts"]], "the statement is in the plan"


def test_a_user_outside_the_plan_gets_no_packet(riley: Store, tmp_path: Path) -> None:
    db, keys, plan = riley
    plantrail("users", "add", "--name", "Lee Stranger", "--role", "clinician", db=db, keys=keys)
    out = tmp_path / "nope.pdf"
    code, _, stderr = _packet(riley, out, "--as", "lee-stranger", check=False)
    assert code != 0
    assert not out.exists()
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    logged = json.loads(
        plantrail("access-log", "--plan", plan["plan_id"], "--json", db=db, keys=keys).stdout
    )
    assert [(r["user_id"], r["outcome"]) for r in logged] == [("lee-stranger", "denied")]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--from", "2026-13-01"), "from"),
        (("--paper", "tabloid"), "paper"),
        (("--generated-at", "yesterday"), "generated-at"),
        (("--as", "nobody-here"), "no user"),
        (("--dates", "/nonexistent/dates.txt"), "is not a date"),
        (("--dates", "2026-02-30"), "is not a date"),
        (("--to", "9999-12-31"), "not a plausible date of service"),
        (("--generated-at", "0001-01-01T00:00:00+14:00"), "ends of the calendar"),
    ],
)
def test_bad_input_gets_one_readable_line(
    riley: Store, tmp_path: Path, args: tuple[str, str], says: str
) -> None:
    db, keys, plan = riley
    out = tmp_path / "bad.pdf"
    start, end = _period()
    options = {"--from": start, "--to": end, args[0]: args[1]}
    flat = [part for pair in options.items() for part in pair]
    result = plantrail(
        "packet", plan["client_id"], *flat, "-o", str(out), db=db, keys=keys, check=False
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()


def test_verify_packet_refuses_a_file_that_is_no_packet(riley: Store, tmp_path: Path) -> None:
    db, keys, _ = riley
    other = tmp_path / "letter.pdf"
    other.write_bytes(b"%PDF-1.4 not a packet")
    result = plantrail("verify-packet", str(other), db=db, keys=keys, check=False)
    assert result.returncode == 2
    assert "not a plantrail audit packet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_packet_is_private_and_never_overwritten_or_written_through_a_link(
    riley: Store, tmp_path: Path
) -> None:
    """A packet is health data: 0600 whatever the umask; an existing file is kept unless
    --force, and a symbolic link as the output is refused (one readable line each)."""
    out = tmp_path / "riley.pdf"
    _packet(riley, out)
    assert out.stat().st_mode & 0o777 == 0o600
    first = out.read_bytes()
    code, _, stderr = _packet(riley, out, check=False)
    assert code == 2
    assert "already exists; add --force" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert out.read_bytes() == first
    out.chmod(0o644)
    _packet(riley, out, "--force")
    assert out.stat().st_mode & 0o777 == 0o600
    target = tmp_path / "elsewhere.txt"
    target.write_text("not yours")
    link = tmp_path / "link.pdf"
    link.symlink_to(target)
    code, _, stderr = _packet(riley, link, "--force", check=False)
    assert code == 2
    assert "symbolic link" in stderr
    assert target.read_text() == "not yours"


def test_a_page_edited_in_the_file_is_named(riley: Store, tmp_path: Path) -> None:
    """One date changed on the second page of the PDF (the record untouched): verify-packet
    exits 1 and names the page, in words and in JSON."""
    from tests.integration.test_packet_pages import _a_digit_on, _edit_page

    db, keys, _ = riley
    out = tmp_path / "riley.pdf"
    _packet(riley, out)
    pdf = out.read_bytes()
    old = _a_digit_on(pdf, 1)
    edited = tmp_path / "edited.pdf"
    edited.write_bytes(_edit_page(pdf, 1, old, old[:-1] + (b"1" if old[-1:] != b"1" else b"2")))
    result = plantrail("verify-packet", str(edited), db=db, keys=keys, check=False)
    assert result.returncode == 1
    assert "page 2 differs from the record" in " ".join(result.stdout.split())
    checked = json.loads(
        plantrail("verify-packet", str(edited), "--json", db=db, keys=keys, check=False).stdout
    )
    assert checked["differing_pages"] == [2]
    assert checked["differing_parts"] == []
