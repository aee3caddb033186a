"""A stalled PostgreSQL: every wait is bounded, the answer is a prompt 503 with ``Retry-After``,
and the server recovers by itself once the database answers again (``store/deadlines.py``).

The stall is a TCP proxy on 127.0.0.1 between the app and PostgreSQL that stops forwarding
while keeping every connection open: to the client the database simply stops answering, the
way a frozen server or a broken network path looks. The server's own ``statement_timeout``
cannot help there (its cancellation cannot get through either); the client-side watchdog must.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.support.http import Practice, practice
from tests.support.plans import full_plan
from tests.support.stores import postgres_schema_url

BOUND = 2.0
"""Seconds: the database bound the app is started with for the test."""
STALL = 20.0
"""Seconds the stall lasts at most (the proxy resumes by itself): without bounds, each request
would hang this long."""


class StallingProxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL until ``pause()``; then holds every byte (and
    every new connection) until ``resume()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.loop = asyncio.new_event_loop()
        self.flowing: asyncio.Event | None = None
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StallingProxy:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self.resume()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def pause(self) -> None:
        assert self.flowing is not None
        self.loop.call_soon_threadsafe(self.flowing.clear)
        self.loop.call_soon_threadsafe(self.loop.call_later, STALL, self.flowing.set)

    def resume(self) -> None:
        assert self.flowing is not None
        self.loop.call_soon_threadsafe(self.flowing.set)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.flowing = asyncio.Event()
        self.flowing.set()
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.flowing is not None
        await self.flowing.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.flowing is not None
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


@pytest.fixture
def stalling(
    pg_database: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Practice, StallingProxy]]:
    if pg_database is None:
        pytest.skip("a PostgreSQL stall: set PLANTRAIL_TEST_DATABASE_URL")
    monkeypatch.setenv("PLANTRAIL_DB_TIMEOUT", str(BOUND))
    direct = make_url(postgres_schema_url(pg_database))
    assert direct.host in ("127.0.0.1", "localhost"), "the proxy only forwards to this machine"
    with StallingProxy("127.0.0.1", direct.port or 5432) as proxy:
        url = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        with practice(url, tmp_path) as running:
            yield running, proxy


def _timed(running: Practice, *request: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.monotonic()
    answer = running.request(*request, **kwargs)
    return answer, time.monotonic() - started


def test_a_stalled_database_is_a_prompt_503_and_the_server_recovers(
    stalling: tuple[Practice, StallingProxy],
) -> None:
    running, proxy = stalling
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}"
    assert running.request("dana", "GET", path).status_code == 200
    assert running.request(None, "GET", "/ready").status_code == 200

    proxy.pause()
    try:
        # Liveness never asks the store: the process is alive, a restart would mend nothing.
        answer, took = _timed(running, None, "GET", "/health")
        assert answer.status_code == 200
        assert took < BOUND
        for who, method, route, body in (
            (None, "GET", "/ready", None),
            ("dana", "GET", path, None),
            ("dana", "POST", path + "/strengths", {"text": "Walks daily"}),
        ):
            answer, took = _timed(running, who, method, route, json=body)
            assert answer.status_code == 503, (route, answer.text)
            assert answer.headers["Retry-After"] == "1"
            assert "did not answer in time" in answer.json()["detail"]
            # A few bounds at most (the write waits on the store, then on the access log),
            # never the length of the stall.
            assert took < 6 * BOUND, (route, took)
    finally:
        proxy.resume()

    # The database answers again: so does the server, on fresh connections.
    assert running.request(None, "GET", "/ready").status_code == 200
    again = running.request("dana", "POST", path + "/strengths", json={"text": "Walks daily"})
    assert again.status_code == 201, again.text
    assert running.request("dana", "GET", path).status_code == 200
    assert running.verify_access_log()


def test_ready_answers_503_within_the_bound_while_stalled_and_200_after(
    stalling: tuple[Practice, StallingProxy],
) -> None:
    """``/ready`` itself never hangs: its write probe is bounded like every wait on the store,
    and its answer names the check that failed."""
    running, proxy = stalling
    assert running.request(None, "GET", "/ready").json()["checks"]["write"]["ok"] is True
    proxy.pause()
    try:
        for _ in range(2):  # also once the pooled connections were cut by the watchdog
            answer, took = _timed(running, None, "GET", "/ready")
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "1"
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["checks"]["write"]["ok"] is False
            assert "did not answer in time" in answer.json()["detail"]
            assert took < 2 * BOUND + 3, took
    finally:
        proxy.resume()
    assert running.request(None, "GET", "/ready").status_code == 200


def test_ready_is_503_when_the_database_is_unreachable(
    pg_database: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that is gone (the proxy closed: connections refused) is a prompt 503."""
    if pg_database is None:
        pytest.skip("PostgreSQL: set PLANTRAIL_TEST_DATABASE_URL")
    monkeypatch.setenv("PLANTRAIL_DB_TIMEOUT", str(BOUND))
    direct = make_url(postgres_schema_url(pg_database))
    proxy = StallingProxy("127.0.0.1", direct.port or 5432)
    with proxy:
        url = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        with practice(url, tmp_path) as running:
            assert running.request(None, "GET", "/ready").status_code == 200
            # Point the store at a port where nothing listens, and drop the open connections.
            running.app.state.plantrail.access_log.driver.close()
            proxy.target = ("127.0.0.1", 1)
            answer, took = _timed(running, None, "GET", "/ready")
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "1"
            assert took < 2 * BOUND + 3, took
            proxy.target = ("127.0.0.1", direct.port or 5432)
            assert running.request(None, "GET", "/ready").status_code == 200
