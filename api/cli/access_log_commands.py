"""``plantrail access-log``: who read or changed which plan, when, from where, with what outcome;
and the access-log check that ``plantrail verify`` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from plantrail.api.cli.app import app
from plantrail.api.cli.context import require_store, resolve_keys
from plantrail.api.cli.options import Database, Json, KeyDir
from plantrail.api.cli.output import console, print_json
from plantrail.domain.errors import InvalidInput
from plantrail.projections.access.access_log import (
    AccessLog,
    AccessLogReport,
    create_access_log_tables,
    verify_access_log,
)
from plantrail.projections.integrity.keys import load_keys
from plantrail.projections.store.engine import DEFAULT_URL, create_store_engine
from plantrail.projections.store.recorder import EPOCH


def access_log_report(db: str | None, keys: Path | None) -> AccessLogReport:
    """Recompute the access log's hash chain (used by ``plantrail verify``)."""
    chain_key = load_keys(resolve_keys(keys)).chain_key
    engine = create_store_engine(db or DEFAULT_URL)
    try:
        return verify_access_log(engine, chain_key)
    finally:
        engine.dispose()


def print_access_log_report(report: AccessLogReport) -> None:
    for problem in report.problems:
        console.print(
            f"[red]FAIL[/] access log entry {problem.seq}: {problem.kind}: {problem.message}"
        )
    verdict = "[green]OK[/]" if report.ok else "[red]TAMPERING DETECTED[/]"
    console.print(f"access log {verdict}: {report.entries_checked} entries checked")


@app.command("access-log")
def access_log_command(
    plan: Annotated[str | None, typer.Option("--plan", help="Only accesses to this plan")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's accesses")] = None,
    last: Annotated[
        int | None, typer.Option("--last", min=1, help="Only the most recent N entries")
    ] = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Show the access log: every read, write and denial, oldest first."""
    # ``--keys`` is taken as by every command, so a line that works for one works for all;
    # listing needs no key (``plantrail verify`` checks the log's chain with it).
    del keys
    if plan is not None and len(plan) > 36:
        raise InvalidInput.on("plan", "is not a plan id")
    require_store(db or DEFAULT_URL)
    engine = create_store_engine(db or DEFAULT_URL)
    try:
        create_access_log_tables(engine)
        rows = AccessLog(engine, None, lambda: EPOCH).entries(
            plan_id=plan, user_id=user, limit=last
        )
    finally:
        engine.dispose()
    if json:
        print_json(rows)
        return
    table = Table(title="Access log")
    for column in ("#", "when (UTC)", "who", "plan", "what", "status", "outcome", "from"):
        table.add_column(column)
    for row in rows:
        who = f"{row['user_id']} ({row['role']})" if row["user_id"] else "(no token)"
        table.add_row(
            str(row["seq"]),
            row["recorded_at"][:19].replace("T", " "),
            who,
            row["plan_id"] or "",
            f"{row['action']} · {row['method']} {row['route']}",
            str(row["status"]),
            row["outcome"],
            row["client_address"] or "",
        )
    console.print(table)
    console.print(f"{len(rows)} entries")
