"""``plantrail serve``: the HTTP API on uvicorn (uvloop + httptools), one or more workers.

Each worker builds its own app from the environment (``app_from_env``); several workers on one
SQLite file are safe because every write transaction starts with ``BEGIN IMMEDIATE`` under a busy
timeout (``projections.store.engine``), so callers wait instead of seeing "database is locked".
``--demo`` writes the demo caseload and its users into a fresh SQLite file in a new temporary
folder (with its own keys) and prints each demo user's token with a ready-to-paste ``curl`` line.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from plantrail.api.cli.app import app
from plantrail.api.cli.context import resolve_keys
from plantrail.api.cli.demo_command import print_demo_plans
from plantrail.api.cli.options import Database, KeyDir
from plantrail.api.cli.output import console, fail
from plantrail.api.cli.request_log import LOG_FORMAT_ENV, LOG_FORMATS, log_config_for
from plantrail.api.cli.users import create_demo_users
from plantrail.api.demo import DEMO_PRACTICE, DemoPlan
from plantrail.api.routing.context import PRACTICE_NAME
from plantrail.api.routing.metrics import MULTIPROCESS_DIR
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.client_access import sign_in_path
from plantrail.projections.access.web_sessions import (
    SECURE_COOKIES,
    SESSION_HOURS,
    SESSION_IDLE_MINUTES,
)
from plantrail.projections.assembly import DATABASE_URL, KEY_DIR, open_service, recorder_of
from plantrail.projections.integrity.keys import create_keys, load_keys
from plantrail.projections.store.engine import DEFAULT_URL, create_store_engine

APP = "plantrail.api.server.app:app_from_env"


def _curl_path(user: dict[str, Any], plans: dict[str, str]) -> str:
    if user["role"] == "clinician":
        plan = plans.get(user["name"])
        return f"/plans/{plan}" if plan else "/plans"
    return {
        "supervisor": "/reports/copy-forward",
        "auditor": "/reports/findings",
    }.get(user["role"], "/me")


def prepare_demo() -> tuple[str, Path, list[dict[str, Any]], list[DemoPlan]]:
    """A fresh SQLite store with keys, the demo caseload and the demo users."""
    folder = Path(tempfile.mkdtemp(prefix="plantrail-demo-"))
    keys = folder / "keys"
    url = f"sqlite:///{folder / 'plantrail-demo.db'}"
    users, created = write_demo_store(url, keys)
    return url, keys, users, created


def write_demo_store(url: str, keys: Path) -> tuple[list[dict[str, Any]], list[DemoPlan]]:
    """Into the empty store at ``url``: new keys in ``keys``, the demo caseload, its users
    (with their tokens) and a first signed checkpoint in ``keys/../checkpoints``."""
    from plantrail.api.demo import load_demo
    from plantrail.projections.integrity.checkpoint import sign_checkpoint, write_checkpoint

    create_keys(keys)
    service = open_service(url, keys)
    try:
        created = load_demo(service)
        users = create_demo_users(recorder_of(service).engine)
        # A first signed checkpoint, as a practice would keep: the integrity page has one to
        # compare with, and later entries show as written after it.
        signing_key = load_keys(keys).signing_key
        assert signing_key is not None  # create_keys made it
        write_checkpoint(
            sign_checkpoint(recorder_of(service).heads(), signing_key), keys.parent / "checkpoints"
        )
    finally:
        service.close()
        recorder_of(service).close()
    return users, created


def demo_client_link(
    url: str, users: list[dict[str, Any]], created: list[DemoPlan]
) -> dict[str, Any] | None:
    """A client access link for the first demo client, issued by their clinician, so the
    client's pages can be tried at once."""
    plan = created[0] if created else None
    clinician = next((u for u in users if plan and u["name"] == plan.clinician), None)
    if plan is None or clinician is None:
        return None
    engine = create_store_engine(url)
    try:
        accounts = Accounts(engine)
        grant, token = accounts.clients.issue(
            plan_id=plan.plan_id, client_id=plan.client_id, client_name=plan.client,
            issued_by=clinician["user_id"],
        )  # fmt: skip
        accounts.close()
    finally:
        engine.dispose()
    return {**grant.as_dict(grant.issued_at_us), "token": token,
            "sign_in_path": sign_in_path(token)}  # fmt: skip


def print_demo_banner(
    url: str,
    key_dir: Path,
    users: list[dict[str, Any]],
    created: list[DemoPlan],
    host: str,
    port: int,
) -> None:
    """What a newcomer needs from ``serve --demo``: the store, each plan's id and client, each
    user's token with a curl line, how to get a new token, and where the API is explained."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    where = f" --db {url} --keys {key_dir}"
    console.print(f"demo store: {url.removeprefix('sqlite:///')} (keys: {key_dir})", soft_wrap=True)
    console.print()
    print_demo_plans(created, where)
    plans: dict[str, str] = {}
    for plan in created:
        plans.setdefault(plan.clinician, str(plan.plan_id))
    for user in users:
        console.print(f"\n{user['name']} ({user['role']}, {user['user_id']})")
        console.print(f"  token: {user['token']}")
        console.print(
            f"  curl -s -H 'Authorization: Bearer {user['token']}' {base}{_curl_path(user, plans)}",
            soft_wrap=True,
        )
        if user["role"] == "auditor" and created:
            # What an auditor asks for first: the year's packet of the richest demo plan.
            plan = next((p for p in created if p.client == "Riley Chen"), created[0])
            today = datetime.now(UTC).date()
            period = f"from={today - timedelta(days=365)}&to={today}"
            console.print(
                f"  audit packet: curl -s -o {plan.client_id}-packet.pdf -H 'Authorization: "
                f"Bearer {user['token']}' '{base}/plans/{plan.plan_id}/packet?{period}'",
                soft_wrap=True,
            )
    link = demo_client_link(url, users, created)
    if link is not None:
        console.print(
            f"\n{link['client_name']} (a client; their own plan only): client access link, "
            f"expires {link['expires_at'][:10]}\n  open {base}{link['sign_in_path']}",
            soft_wrap=True,
        )
    console.print(
        "\nTokens are shown once and stored only as hashes. To get a new one (it replaces the "
        "user's earlier tokens), in another terminal:\n"
        f"  plantrail users token USER_ID --db {url}",
        soft_wrap=True,
    )
    console.print(
        f"\nThe web pages (sign in by pasting a token above): {base}/web/\n"
        f"The interactive API reference (try every endpoint with a token): {base}/docs\n"
        f"FHIR R4 (the same tokens; docs/fhir.md): {base}/fhir/metadata\n",
        soft_wrap=True,
    )


@app.command("serve")
def serve_command(
    db: Database = None,
    keys: KeyDir = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Processes")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Serve the demo caseload from a fresh SQLite file")
    ] = False,
    session_idle_minutes: Annotated[
        int,
        typer.Option(
            "--session-idle-minutes", min=1, max=240, help="Web sessions end after this idle time"
        ),
    ] = 15,
    session_hours: Annotated[
        int,
        typer.Option(
            "--session-hours", min=1, max=24, help="Web sessions end this long after sign-in"
        ),
    ] = 12,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies", help="Mark session cookies Secure (behind a TLS-terminating proxy)"
        ),
    ] = False,
    practice: Annotated[
        str | None,
        typer.Option("--practice", help="The practice's name, printed on every audit packet"),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help="json: one JSON line per request (the default); human: short request lines "
            "(the default with --demo). Also PLANTRAIL_LOG_FORMAT",
        ),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="Proxies (comma-separated addresses) whose X-Forwarded-For and "
            "X-Forwarded-Proto are trusted; default: none",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (see docs/api.md)."""
    chosen = log_format or os.environ.get(LOG_FORMAT_ENV) or ("human" if demo else "json")
    if chosen not in LOG_FORMATS:
        fail(f"--log-format must be one of {', '.join(LOG_FORMATS)}, not {chosen!r}")
    if demo:
        if db is not None:
            fail("--demo makes its own fresh SQLite file; leave out --db")
        url, key_dir, users, created = prepare_demo()
        print_demo_banner(url, key_dir, users, created, host, port)
    else:
        url = db or os.environ.get(DATABASE_URL) or DEFAULT_URL
        key_dir = resolve_keys(keys)
        service = open_service(url, key_dir)
        try:
            if recorder_of(service).chain_key is None:
                fail(f"no chain key in {key_dir}: run 'plantrail init' first")
        finally:
            service.close()
            recorder_of(service).close()
    os.environ[DATABASE_URL] = url
    os.environ[KEY_DIR] = str(key_dir)
    os.environ[SESSION_IDLE_MINUTES] = str(session_idle_minutes)
    os.environ[SESSION_HOURS] = str(session_hours)
    os.environ[SECURE_COOKIES] = "1" if secure_cookies else "0"
    if practice or demo:
        os.environ[PRACTICE_NAME] = practice or DEMO_PRACTICE
    metrics_dir = None
    if workers > 1 and not os.environ.get(MULTIPROCESS_DIR):
        # prometheus-client's multiprocess mode: each worker keeps its metrics in files here,
        # and /metrics sums them, whichever worker answers. A fresh folder per start (removed
        # at the end): the counters begin at zero, as a restarted process's do.
        metrics_dir = os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="plantrail-metrics-")
    import uvicorn

    try:
        run_uvicorn(uvicorn, host, port, workers, chosen, forwarded_allow_ips)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def run_uvicorn(
    uvicorn: Any,
    host: str,
    port: int,
    workers: int,
    log_format: str,
    forwarded_allow_ips: str | None,
) -> None:
    uvicorn.run(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level="info",
        log_config=log_config_for(log_format),  # no query strings, no tokens (request_log.py)
        # Forwarded headers name the client address that sign-in limits and the access log
        # use: trusted only from the proxies the operator names, never by default (uvicorn
        # would trust 127.0.0.1, so any local process could forge them).
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips or "",
    )
