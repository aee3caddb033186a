"""Browser-test harness: the real app on a real port with the demo caseload, driven by Debian's
headless Chromium through Playwright (``executable_path``; no browser is ever downloaded).

Fixtures:

- ``chromium_path`` (session): the system Chromium. Skipped when absent (``apt-get install
  chromium``), as when Playwright is not installed; with ``PLANTRAIL_REQUIRE_BROWSER=1`` (CI) the
  tests fail instead, so CI can never skip them silently.
- ``browser`` (session, one per xdist worker): headless Chromium.
- ``web_server`` (module, over SQLite and PostgreSQL like ``store_url``): a ``WebServer`` with
  ``base_url``, ``users`` (each with its token), ``plans`` (``DemoPlan``), ``db_url``, ``key_dir``.
- ``new_page`` (function): ``new_page() -> Page`` in a fresh context, closed after the test.
- ``signed_in`` (function): ``signed_in(user_id) -> Page`` signed in through ``/web/sign-in``.
- ``screenshot`` (session): ``screenshot(page, name) -> Path``, a full-page PNG; into
  ``docs/web/screenshots/`` only with ``PLANTRAIL_SCREENSHOTS=1``, else into a temp folder.

Every context is made with ``bypass_csp=True``: the harness injects axe-core as an inline
script (``axe.py``), which the product's Content-Security-Policy rightly forbids. The product
never allows inline scripts; only the test browser ignores the policy. Contexts also abort every
request that leaves 127.0.0.1, so the pages are tested as served, offline and reproducibly.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plantrail.api.demo import DemoPlan
from tests.e2e.browser.axe import missing
from tests.support.stores import PG_ENV, postgres_schema_url

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(PG_ENV) else [])
REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOT_DIR = REPO_ROOT / "docs" / "web" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000
LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class WebServer:
    """The app serving the demo caseload at ``base_url``."""

    base_url: str
    users: list[dict[str, Any]]
    """As ``prepare_demo`` returns them: user_id, name, role, credentials, token."""
    plans: list[DemoPlan]
    db_url: str
    key_dir: Path
    backend: str

    def user(self, user_id: str) -> dict[str, Any]:
        for user in self.users:
            if user["user_id"] == user_id:
                return user
        known = ", ".join(u["user_id"] for u in self.users)
        raise KeyError(f"no demo user {user_id!r} (the demo users: {known})")

    def token(self, user_id: str) -> str:
        token: str = self.user(user_id)["token"]
        return token


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium (``apt-get install chromium``), never a downloaded build."""
    found = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    found = found or shutil.which("chromium")
    if found is None:
        missing("no chromium on this machine: apt-get install chromium")
    return found


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed: pip install -e '.[test]'")
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright, chromium_path: str) -> Iterator[Browser]:
    # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
    launched = playwright_driver.chromium.launch(
        executable_path=chromium_path, headless=True, args=["--no-sandbox"]
    )
    try:
        yield launched
    finally:
        launched.close()


def _local_only(route: Route) -> None:
    if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
        route.continue_()
    else:
        route.abort("blockedbyclient")


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """``new_page()``: a page in a fresh context (own cookies), closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        # bypass_csp: the harness injects axe-core inline (see the module docstring).
        context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", _local_only)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def signed_in(new_page: Callable[[], Page], web_server: WebServer) -> Callable[[str], Page]:
    """``signed_in(user_id)``: a page signed in as that demo user through the sign-in form
    (``<input name="token">``, ``<button type="submit">``), on whatever page it lands on."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def sign_in(user_id: str) -> Page:
        token = web_server.token(user_id)
        page = new_page()
        response = page.goto(f"{web_server.base_url}/web/sign-in")
        if response is None or response.status != 200:
            status = response.status if response else "no response"
            pytest.fail(f"GET /web/sign-in answered {status}, not the sign-in page")
        page.fill('input[name="token"]', token)
        page.click('button[type="submit"]')
        try:
            page.wait_for_url(lambda url: "/web/sign-in" not in url)
        except PlaywrightTimeout:
            shown = page.locator("body").inner_text(timeout=1_000)[:500]
            pytest.fail(f"signing in as {user_id} stayed on {page.url}; the page said:\n{shown}")
        return page

    return sign_in


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Page, str], Path]:
    """``screenshot(page, name)``: a full-page PNG, returned as its path."""
    keep = os.environ.get("PLANTRAIL_SCREENSHOTS") == "1"
    folder = SCREENSHOT_DIR if keep else tmp_path_factory.mktemp("screenshots")

    def take(page: Page, name: str) -> Path:
        path = folder / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
        return path

    return take


# --- the server -------------------------------------------------------------------------------


def _write_demo(url: str, key_dir: Path) -> tuple[list[dict[str, Any]], list[DemoPlan]]:
    """The demo caseload, users and first checkpoint on ``url``, exactly as ``serve --demo``."""
    from plantrail.api.cli.serve import write_demo_store

    return write_demo_store(url, key_dir)


@contextmanager
def _demo_store(
    backend: str, pg_database: str | None
) -> Iterator[tuple[str, Path, list[dict[str, Any]], list[DemoPlan]]]:
    """A fresh store with the demo: ``prepare_demo``'s SQLite file, or a PostgreSQL schema of
    its own in the session database; removed afterwards."""
    if backend == "sqlite":
        from plantrail.api.cli.serve import prepare_demo

        url, keys, users, plans = prepare_demo()
        try:
            yield url, keys, users, plans
        finally:
            shutil.rmtree(keys.parent, ignore_errors=True)
        return
    assert pg_database is not None
    folder = Path(tempfile.mkdtemp(prefix="plantrail-web-"))
    url = postgres_schema_url(pg_database)
    schema = make_url(url).query["options"].removeprefix("-csearch_path=")
    try:
        users, plans = _write_demo(url, folder / "keys")
        yield url, folder / "keys", users, plans
    finally:
        engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    """``app`` on uvicorn in a thread, on a port bound here first (no race for a free port)."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert thread.is_alive(), "the server stopped while starting (see the log above)"
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{base_url}/health did not answer 200 in 60s"
            time.sleep(0.1)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
        assert not thread.is_alive(), "the server did not stop within 30s"


@pytest.fixture(scope="module", params=BACKENDS)
def web_server(request: pytest.FixtureRequest, pg_database: str | None) -> Iterator[WebServer]:
    """The real app over a fresh demo store, on SQLite and (when configured) PostgreSQL."""
    from plantrail.api.server.app import create_app
    from plantrail.projections.assembly import open_service

    with _demo_store(request.param, pg_database) as (url, keys, users, plans):
        app = create_app(open_service(url, keys), close_service=True)
        with _serving(app) as base_url:
            yield WebServer(base_url, users, plans, url, keys, request.param)
