"""A first-time user's command line and browser: what they meet before they know the tool.

Read commands never create a store (a mistyped ``--db``, or none in the wrong folder, says there
is none); every command takes ``--keys``; a link a command prints is a real address; a too-short
start of a plan id says so; the caseload fits 80 columns; ``plantrail demo`` on one's own store
makes users and says how to sign in; ``/`` leads to the pages.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.cli import plantrail
from tests.support.http import Practice


def _run(*args: str, cwd: Path, columns: int = 200) -> subprocess.CompletedProcess[str]:
    """``plantrail *args`` in ``cwd`` with no store or keys named in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANTRAIL_")}
    env["COLUMNS"] = str(columns)
    env["HOME"] = str(cwd)  # the default key directory, ~/.plantrail/keys, is the test's own
    return subprocess.run(
        [sys.executable, "-m", "plantrail.api.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_read_commands_never_create_a_store(tmp_path: Path) -> None:
    packet = tmp_path / "packet.json"
    packet.write_text("{}")
    for args in (
        ("verify-packet", str(packet)),
        ("caseload",),
        ("verify",),
        ("access-log",),
        ("show", "abcd"),
    ):
        result = _run(*args, cwd=tmp_path)
        assert result.returncode != 0, args
        said = result.stdout + result.stderr
        assert "there is no plantrail store at plantrail.db" in said, (args, said)
        assert "Traceback" not in said
        assert len(said.strip().splitlines()) == 1, said
        assert not (tmp_path / "plantrail.db").exists(), args
    # The commands that make a store still do.
    assert _run("init", cwd=tmp_path).returncode == 0
    assert (tmp_path / "plantrail.db").exists()


def test_access_log_takes_keys_like_every_command(
    demo_store: tuple[str, Path, list[dict[str, str]]],
) -> None:
    db, keys, _plans = demo_store
    listed = plantrail("access-log", "--keys", str(keys), "--json", db=db, keys=keys)
    assert isinstance(json.loads(listed.stdout), list)


def test_client_access_issue_prints_the_servers_address(
    demo_store: tuple[str, Path, list[dict[str, str]]],
) -> None:
    db, keys, plans = demo_store
    jordan = next(p for p in plans if p["client"] == "Jordan Ellis")
    issued = plantrail(
        "client-access", "issue", jordan["plan_id"], "--as", "dana-reyes", db=db, keys=keys
    )
    assert "<server>" not in issued.stdout
    assert re.search(r"page: http://127\.0\.0\.1:8000/web/sign-in#key=pc_\S+", issued.stdout)
    elsewhere = plantrail(
        "client-access", "issue", jordan["plan_id"], "--as", "dana-reyes",
        "--base-url", "https://plans.example.org/", db=db, keys=keys,
    )  # fmt: skip
    assert "page: https://plans.example.org/web/sign-in#key=pc_" in elsewhere.stdout


def test_a_three_character_start_of_an_id_is_too_short(
    demo_store: tuple[str, Path, list[dict[str, str]]],
) -> None:
    db, keys, plans = demo_store
    refused = plantrail("show", plans[0]["plan_id"][:3], db=db, keys=keys, check=False)
    assert refused.returncode != 0
    assert "too short" in refused.stdout + refused.stderr
    assert "at least 4 characters" in refused.stdout + refused.stderr


def test_the_caseload_is_readable_at_80_columns(
    demo_store: tuple[str, Path, list[dict[str, str]]],
) -> None:
    db, keys, plans = demo_store
    env = {
        **os.environ,
        "PLANTRAIL_DATABASE_URL": db,
        "PLANTRAIL_KEY_DIR": str(keys),
        "COLUMNS": "80",
    }
    shown = subprocess.run(
        [sys.executable, "-m", "plantrail.api.cli", "caseload"],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    lines = shown.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    for plan in plans:
        # Each row names its plan by a start of the id that commands take, and its client whole.
        assert plan["plan_id"][:8] in shown
        assert plan["client"].split()[0] in shown
    # No word cut into one-letter columns: the status and the clinicians' names read whole.
    assert "active" in shown
    assert "Dana Reyes" in shown


def test_demo_on_ones_own_store_makes_users_and_says_how_to_sign_in(tmp_path: Path) -> None:
    db, keys = f"sqlite:///{tmp_path / 'mine.db'}", tmp_path / "keys"
    plantrail("init", db=db, keys=keys)
    printed = plantrail("demo", db=db, keys=keys).stdout
    assert "plantrail serve" in printed
    assert "http://127.0.0.1:8000/web/" in printed
    assert re.search(r"dana-reyes \(clinician\): pt_\S+", printed), printed
    users = json.loads(plantrail("users", "list", "--json", db=db, keys=keys).stdout)
    assert {"dana-reyes", "sam-okafor", "alex-kim", "admin"} <= {u["user_id"] for u in users}


def test_the_servers_address_leads_to_the_pages(running: Practice) -> None:
    entrance = running.client.get("/", follow_redirects=False)
    assert entrance.status_code in (302, 303, 307)
    assert entrance.headers["location"] == "/web/"
    assert running.client.get("/favicon.ico").status_code in (204, 404)
    assert running.client.get("/favicon.ico").status_code != 401
