"""Figure 6: ``GET /plans/{id}`` over HTTP (keep-alive, 20 connections, one uvicorn worker)
against a bare FastAPI endpoint returning the same bytes on the same server settings.

Both servers run in their own process pinned to CPU 0; the load generator (raw asyncio on
uvloop, HTTP/1.1 keep-alive, loopback only, bounded by time and by request count) runs in this
process pinned to CPU 1. Each round loads plantrail, then the bare endpoint, for the same time;
a round's figures are requests/s and the p50/p99 latency.

The plantrail side is the whole app (``create_app``): every request authenticates its token,
reads the plan and waits until its access-log row is committed (group commit) before the
response starts. Without ``create_app`` (an older tree) only the bare endpoint is measured.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from tests.benchmarks import data, profiling
from tests.benchmarks.harness import Figure, Stores, close_service, log, percentile, recorder

CONNECTIONS = 20
MAX_REQUESTS = 200_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.http_server",
            "--port",
            str(port),
            "--cpu",
            "0",
            *args,
        ],
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the benchmark server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the benchmark server did not start in 30 s")


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request on a kept-alive connection and read its whole response; its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _worker(
    port: int, request: bytes, deadline: float, latencies: list[float], statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS:
            started = time.perf_counter()
            status = await exchange(reader, writer, request)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _load(port: int, path: str, token: str | None, seconds: float) -> dict[str, Any]:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Accept: application/json\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_worker(port, request, deadline, latencies, statuses) for _ in range(CONNECTIONS))
    )
    elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "statuses": statuses,
    }


def load(port: int, path: str, token: str | None, seconds: float) -> dict[str, Any]:
    try:
        import uvloop

        return uvloop.run(_load(port, path, token, seconds))
    except ImportError:
        return asyncio.run(_load(port, path, token, seconds))


def _app_missing() -> str | None:
    try:
        from plantrail.api.server.app import create_app  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


def run(stores: Stores, *, rounds: int, seconds: float) -> list[Figure]:
    url = stores.new_url("fig6")
    service = stores.open(url)
    script = data.write_plan(
        data.DirectRunner(service, data.SimulatedClock()), 40, 6, review_every=10
    )
    plan_id = script.plan_id
    path = f"/plans/{plan_id}"
    missing = _app_missing()
    servers: list[subprocess.Popen[bytes]] = []
    original = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        token = None
        plantrail_port = None
        if missing is None:
            from plantrail.projections.access.accounts import Accounts

            accounts = Accounts(recorder(service).engine)
            accounts.create_tables()
            _, token = accounts.add_user(
                name=script.actor.name,
                role="clinician",
                user_id=script.actor.user_id,
                credentials=script.actor.credentials,
            )
            plantrail_port = _free_port()
            servers.append(
                _start(
                    ["--mode", "plantrail", "--url", url, "--keys", str(stores.key_dir)],
                    plantrail_port,
                )
            )
            import httpx

            answer = httpx.get(
                f"http://127.0.0.1:{plantrail_port}{path}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path} answered {answer.status_code}: {answer.text}")
            body = answer.content
        else:
            body = orjson.dumps(service.load(plan_id).model_dump(mode="json"))
        body_file = stores.workdir / "fig6-body.json"
        body_file.write_bytes(body)
        bare_port = _free_port()
        servers.append(_start(["--mode", "bare", "--body", str(body_file)], bare_port))
        if original is not None and len(original) > 1:
            os.sched_setaffinity(0, {1})
        for port, tok in ((plantrail_port, token), (bare_port, None)):  # warm-up
            if port is not None:
                load(port, path, tok, min(1.0, seconds / 2))
        ours: list[dict[str, Any]] = []
        bare: list[dict[str, Any]] = []
        for n in range(rounds):
            if plantrail_port is not None:
                ours.append(load(plantrail_port, path, token, seconds))
            bare.append(load(bare_port, path, None, seconds))
            log(
                f"  fig6 round {n + 1}: "
                + (
                    f"plantrail {ours[-1]['rps']:,.0f} req/s p99 {ours[-1]['p99_ms']:.1f} ms, "
                    if ours
                    else ""
                )
                + f"bare {bare[-1]['rps']:,.0f} req/s p99 {bare[-1]['p99_ms']:.1f} ms"
            )
        if plantrail_port is not None and profiling.folder() is not None:
            # A second plantrail server, profiled, loaded once after the timed rounds.
            port = _free_port()
            servers.append(
                _start(
                    [
                        "--mode",
                        "plantrail",
                        "--url",
                        url,
                        "--keys",
                        str(stores.key_dir),
                        "--profile-name",
                        f"fig6-{stores.backend}",
                    ],
                    port,
                )
            )
            httpx.get(
                f"http://127.0.0.1:{port}{path}",  # its one Argon2 check, before the load
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            load(port, path, token, seconds)
            servers[-1].send_signal(signal.SIGINT)  # see http_server: the report is written
            servers[-1].wait(timeout=60)
    finally:
        if original is not None:
            os.sched_setaffinity(0, original)
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        close_service(service)
    bare_rps = [b["rps"] for b in bare]
    notes = (
        f"{CONNECTIONS} connections, {seconds:g} s per round, body {len(body):,} B; bare "
        f"p50/p99 {percentile([b['p50_ms'] for b in bare], 50):.1f}/"
        f"{percentile([b['p99_ms'] for b in bare], 50):.1f} ms"
    )
    if missing is not None:
        return [
            Figure(
                "6",
                "GET /plans/{id}, 20 connections, 1 worker",
                stores.backend,
                "",
                [],
                notes=f"not measured: {missing} (create_app is being written)",
            ),
            Figure(
                "6b",
                "bare FastAPI endpoint alone (the baseline of figure 6)",
                stores.backend,
                "req/s",
                bare_rps,
                notes=notes,
                extra={"bare": bare},
            ),
        ]
    rps = [o["rps"] for o in ours]
    p99 = [o["p99_ms"] for o in ours]
    figure = Figure(
        "6",
        "GET /plans/{id}, 20 connections, 1 worker",
        stores.backend,
        "req/s",
        rps,
        "bare FastAPI endpoint, same bytes, same server settings",
        "req/s",
        bare_rps,
        [o / b for o, b in zip(rps, bare_rps, strict=True)],
        "× bare",
        "≥ 0.5×, p99 ≤ 25 ms",
        None,
        f"plantrail p50/p99 {percentile([o['p50_ms'] for o in ours], 50):.1f}/"
        f"{percentile(p99, 50):.1f} ms; " + notes,
        {"plantrail": ours, "bare": bare},
    )
    figure.met = (figure.ratio or 0) >= 0.5 and percentile(p99, 50) <= 25
    return [figure]
