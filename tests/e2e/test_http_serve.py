"""``plantrail serve`` as a real server: two uvicorn workers on one store under concurrent
writers and readers (no "database is locked" ever reaches a caller), and ``serve --demo`` whose
printed ``curl`` lines all work."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "plantrail.api.cli", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def server(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    """``plantrail serve ARGS`` in its own process group, stopped (the whole group) afterwards."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "plantrail.api.cli", "serve", *args],
            env=env, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)


def wait_healthy(base: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("the server did not come up:\n" + log.read_text())


def test_two_workers_share_one_store_without_lock_errors(store_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    env = {**os.environ, "PLANTRAIL_DATABASE_URL": store_url, "PLANTRAIL_KEY_DIR": str(keys)}
    cli("init", env=env)
    token = json.loads(
        cli("users", "add", "--name", "Dana Reyes", "--role", "clinician", "--json", env=env)
    )["token"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with server(["--port", str(port), "--workers", "2"], env, log) as process:
        wait_healthy(base, process, log)
        auth = {"Authorization": f"Bearer {token}"}
        end = (datetime.now(UTC).date() + timedelta(days=200)).isoformat()
        body = {"client": {"id": "MRN-5", "name": "Lee Park", "date_of_birth": "1970-07-07"},
                "plan_end_date": end}  # fmt: skip
        plan = httpx.post(base + "/plans", json=body, headers=auth, timeout=30).json()["plan_id"]
        # Writers without If-Match go to another plan: on the raced plan they could win first.
        other = httpx.post(base + "/plans", json=body, headers=auth, timeout=30).json()["plan_id"]
        writers, rounds = 6, 8
        answers: list[tuple[str, int, str]] = []
        lock = threading.Lock()
        local = threading.local()

        def client() -> httpx.Client:
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=base, headers=auth, timeout=60)
            return local.client  # type: ignore[no-any-return]

        def act(job: tuple[str, int, str]) -> None:
            kind, n, etag = job
            if kind == "race":
                r = client().post(f"/plans/{plan}/strengths", json={"text": f"race {n}"},
                                  headers={"If-Match": etag})  # fmt: skip
            elif kind == "free":
                r = client().post(f"/plans/{other}/barriers", json={"text": f"free {n}"})
            else:
                r = client().get(f"/plans/{plan}/events")
            with lock:
                answers.append((kind, r.status_code, r.text))

        with ThreadPoolExecutor(writers * 2) as pool:
            for round_no in range(rounds):
                etag = httpx.get(f"{base}/plans/{plan}", headers=auth, timeout=30).headers["ETag"]
                jobs = [("race", round_no * 100 + i, etag) for i in range(writers)]
                jobs += [("free", round_no * 100 + i, "") for i in range(2)]
                jobs += [("read", i, "") for i in range(4)]
                list(pool.map(act, jobs))
        statuses = Counter((kind, status) for kind, status, _ in answers)
        assert all(status < 500 for _, status, _ in answers), statuses
        assert not [text for *_, text in answers if "locked" in text.lower()]
        assert statuses[("race", 201)] == rounds, statuses
        assert {s for k, s in statuses if k == "race"} <= {201, 409, 412}
        assert {s for k, s in statuses if k == "free"} <= {201, 409}
        assert statuses[("read", 200)] == rounds * 4
        final = httpx.get(f"{base}/plans/{plan}", headers=auth, timeout=30).json()
        assert final["version"] == 1 + rounds
        assert len(final["strengths"]) == rounds
        barriers = httpx.get(f"{base}/plans/{other}", headers=auth, timeout=30).json()
        assert len(barriers["barriers"]) == statuses[("free", 201)]
        stored = 2 + rounds + statuses[("free", 201)]
    verified = json.loads(cli("verify", "--json", env=env))
    assert verified["ok"] is True
    assert verified["events_checked"] == stored
    assert verified["access_log"]["ok"] is True


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl program")
def test_serve_demo_prints_curl_lines_that_work(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANTRAIL_")}
    env["HOME"] = str(tmp_path)  # the demo must not need or touch the user's own keys
    port = free_port()
    log = tmp_path / "serve.log"
    with server(["--demo", "--port", str(port)], env, log) as process:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        printed = log.read_text()
        lines = [line.strip() for line in printed.splitlines() if line.strip().startswith("curl ")]
        tokens = re.findall(r"token: (pt_\S+)", printed)
        assert len(lines) == len(tokens) == 6, printed
        listed = re.findall(r"^  ([0-9a-f-]{36})  (.+) \((MRN-\d+)\), ", printed, re.M)
        assert len(listed) == 7, "each demo plan's id and client on one line"
        outputs: dict[str, Any] = {}
        for line in lines:
            done = subprocess.run(
                ["bash", "-c", line + " -w '\\n%{http_code}'"],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            body, _, status = done.stdout.rpartition("\n")
            assert status == "200", (line, done.stdout, done.stderr)
            outputs[line.rsplit(" ", 1)[-1]] = json.loads(body)
        # The auditor's packet line writes the PTSD plan's year as a PDF where it is run.
        [packet] = [
            line.split(": ", 1)[1] for line in printed.splitlines() if "audit packet: " in line
        ]
        fetched = subprocess.run(
            ["bash", "-c", packet + " -w '%{http_code}'"],
            capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert fetched.stdout == "200", (packet, fetched.stdout, fetched.stderr)
        assert (tmp_path / "MRN-20602-packet.pdf").read_bytes().startswith(b"%PDF-")
        base = f"http://127.0.0.1:{port}"
        assert f"{base}/docs" in printed, "the banner points to the interactive API reference"
        assert f"{base}/web/" in printed, "and to the web pages"
        pages = httpx.get(f"{base}/web/", timeout=10, follow_redirects=True)
        assert pages.status_code == 200, "without a session: the sign-in page"
        assert 'name="token"' in pages.text
        # The demo's client link opens the sign-in form with the client's key, which reads
        # their plan and nothing else.
        [link] = re.findall(r"open (http://\S+/web/sign-in#key=(pc_\S+))", printed)
        form = httpx.get(link[0], timeout=10)
        assert 'src="/web/static/sign-in.js"' in form.text
        searched = httpx.get(
            f"{base}/fhir/CarePlan?subject=Patient/MRN-20602",
            headers={"Authorization": f"Bearer {tokens[0]}"},
            timeout=10,
        )
        assert searched.status_code in (200, 403)
        headers = {"Authorization": f"Bearer {link[1]}"}
        me = httpx.get(f"{base}/me", headers=headers, timeout=10).json()
        assert me["role"] == "client"
        assert httpx.get(f"{base}/plans/{me['plan_id']}", headers=headers, timeout=10).is_success
        assert httpx.get(f"{base}/plans", headers=headers, timeout=10).status_code == 403
        httpx.get(f"{base}/web/sign-in?key={link[1]}", timeout=10)
        # The server's request lines carry method, path and status: no query (a client's MRN
        # or key), no address.
        requests = [line for line in log.read_text().splitlines() if '"GET /' in line]
        assert any('"GET /fhir/CarePlan" ' in line for line in requests), requests
        assert not [line for line in requests if "?" in line or "MRN-" in line or "pc_" in line]
        assert not [line for line in requests if "127.0.0.1" in line]
        docs = httpx.get(f"{base}/docs", timeout=10)
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        # Right under the tokens: how to get a new one. Run the printed command as a user would.
        [renew] = [line.strip() for line in printed.splitlines() if "plantrail users token" in line]
        users = dict(re.findall(r"\(\w+, ([\w-]+)\)\n  token: (pt_\S+)", printed))
        assert set(users) >= {"dana-reyes", "priya-shah"}, printed
        assert "USER_ID" in renew, renew
        assert "--db sqlite:///" in renew, renew
        new_token = re.search(
            r"(pt_\S+)", cli(*renew.replace("USER_ID", "dana-reyes").split()[1:], env=env)
        )
        assert new_token, renew

        def status_with(token: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return httpx.get(f"{base}/plans", headers=headers, timeout=10).status_code

        assert status_with(new_token.group(1)) == 200
        assert status_with(users["dana-reyes"]) == 401, "the new token replaces the earlier ones"
        assert status_with(users["priya-shah"]) == 200, "other users keep theirs"
    documents = [v for k, v in outputs.items() if "/plans/" in k]
    assert len(documents) == 3
    assert {d["clinician"]["user_id"] for d in documents} == {
        "dana-reyes", "marcus-hill", "priya-shah"
    }  # fmt: skip
    reports = [v for k, v in outputs.items() if "/reports/" in k]
    assert any(r.get("plans") for r in reports)
    assert any(r.get("findings") for r in reports)
