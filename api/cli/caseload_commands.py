"""``plantrail caseload``, ``copy-forward`` and ``projections rebuild|catch-up``: the read
models that span plans."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich import box
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from plantrail.api.cli.acting import AsUser, acting
from plantrail.api.cli.app import app
from plantrail.api.cli.context import service_for
from plantrail.api.cli.options import Database, Json, KeyDir
from plantrail.api.cli.output import console, print_json
from plantrail.domain.service import PlanService
from plantrail.projections.access.caseload_views import CaseloadFilters
from plantrail.projections.assembly import recorder_of
from plantrail.projections.caseload import (
    catch_up,
    rebuild,
)

projections_app = typer.Typer(
    help="Maintain the read models that span plans.", no_args_is_help=True
)
app.add_typer(projections_app, name="projections")

Clinician = Annotated[
    str | None, typer.Option("--clinician", help="Only this clinician's plans (user id)")
]


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} plans"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _catch_up(service: PlanService) -> None:
    """Bring every stale plan's read-model rows up to date, with a progress bar (the gateway's
    own catch-up then finds nothing to do)."""
    recorder = recorder_of(service)
    total = len(recorder.plan_ids())
    with _progress("catching up") as progress:
        task = progress.add_task("catch-up", total=total)
        catch_up(service, recorder, progress=lambda n: progress.advance(task, n))


@projections_app.command("rebuild")
def rebuild_command(db: Database = None, keys: KeyDir = None) -> None:
    """Empty the read-model tables and rebuild them from the event log."""
    service = service_for(db, keys)
    recorder = recorder_of(service)
    total = len(recorder.plan_ids())
    with _progress("rebuilding") as progress:
        task = progress.add_task("rebuild", total=total)
        done = rebuild(service, recorder, progress=lambda n: progress.advance(task, n))
    console.print(f"rebuilt the read models of {done} plans")


@projections_app.command("catch-up")
def catch_up_command(db: Database = None, keys: KeyDir = None) -> None:
    """Recompute the plans whose read-model rows are behind their events or from an earlier day."""
    service = service_for(db, keys)
    recorder = recorder_of(service)
    # After midnight every plan is stale (its findings are from yesterday): a maintenance
    # catch-up is then a whole rebuild's work, so it may use the second core as rebuild does.
    done = catch_up(service, recorder, helper=(os.cpu_count() or 1) >= 2)
    console.print(f"{done} plans brought up to date")


SHORT_ID = 8
"""Characters of a plan id the caseload shows: unique in any real caseload, and commands take
any unambiguous start of at least four (``plan_ref.py``)."""


@app.command("caseload")
def caseload_command(
    clinician: Clinician = None,
    status: Annotated[str | None, typer.Option(help="draft, active or discharged")] = None,
    flag: Annotated[
        str | None,
        typer.Option(
            help="a finding code (review_overdue), copied_forward or nearly_copied_forward"
        ),
    ] = None,
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Every plan with its status, next review and findings count."""
    with acting(db, keys, user, "caseload") as act:
        _catch_up(act.service)
        filters = CaseloadFilters(clinician_id=clinician, status=status, flag=flag)
        act.entry.action = "view:caseload"  # a read across plans, logged as GET /plans is
        rows = act.gateway.caseload(act.caller, filters)
    if json:
        print_json(rows)
        return
    # Readable at 80 columns: the plan by the start of its id that every command takes (the
    # whole id and the finding codes are in --json), few borders, and long cells on a second
    # line instead of squeezing the narrow columns to a letter each.
    table = Table(
        title=f"Caseload ({len(rows)} plans)",
        caption="plan: the start of its id (any command takes it, or the MRN); "
        "the findings: plantrail findings PLAN",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("plan", no_wrap=True, min_width=SHORT_ID)
    table.add_column("client", ratio=3, min_width=12)
    table.add_column("clinician", ratio=2, min_width=9)
    table.add_column("status", no_wrap=True, min_width=10)
    table.add_column("next due", no_wrap=True, min_width=10)
    table.add_column("findings", justify="right", no_wrap=True)
    for row in rows:
        upcoming = row["next_due"]
        due = f"{upcoming['date']}\n{upcoming['kind']}" if upcoming else ""
        table.add_row(
            row["plan_id"][:SHORT_ID],
            f"{row['client']['name']}\n{row['client']['id']}",
            row["clinician"]["name"],
            row["status"],
            f"[red]{row['next_review_due']}\nreview overdue[/]" if row["review_overdue"] else due,
            str(row["findings_count"]),
        )
    console.print(table)


def print_caseload_findings(
    db: str | None, keys: Any, clinician: str | None, json: bool, *, user: str | None = None
) -> None:
    """Audit findings across the caseload (``plantrail findings`` without a plan)."""
    with acting(db, keys, user, "findings") as act:
        _catch_up(act.service)
        act.entry.action = "view:caseload-findings"
        rows = act.gateway.caseload_findings(act.caller, clinician)
    if json:
        print_json(rows)
        return
    table = Table(title=f"Audit findings across the caseload ({len(rows)})")
    for column in ("client", "code", "severity", "item", "finding"):
        table.add_column(column, no_wrap=column in ("client", "code"))
    for row in rows:
        table.add_row(
            row["client_name"], row["code"], row["severity"], row["label"] or "", row["message"]
        )
    console.print(table)


@app.command("copy-forward")
def copy_forward_command(
    clinician: Clinician = None,
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Plans whose reviews were copied forward, and objectives reused verbatim across clients."""
    with acting(db, keys, user, "copy-forward") as act:
        _catch_up(act.service)
        act.entry.action = "view:copy-forward-report"
        report = act.gateway.copy_forward_report(act.caller, clinician)
    if json:
        print_json(report)
        return
    plans = Table(title="Plans with copied-forward reviews (longest streak first)")
    for column in (
        "client",
        "clinician",
        "reviews",
        "copied forward (near)",
        "longest streak",
        "verdicts",
    ):
        plans.add_column(column)
    for plan in report["plans"]:
        verdicts = " → ".join(
            f"{r['label']}: {r['verdict']}"
            + (
                " (same summary)"
                if r["summary_repeated"]
                else " (similar summary)"
                if r.get("summary_nearly_repeated")
                else ""
            )
            for r in plan["reviews"]
        )
        plans.add_row(
            plan["client_name"],
            plan["clinician_id"],
            str(plan["reviews_completed"]),
            f"{plan['copied_forward_reviews']} ({plan['nearly_copied_reviews']})",
            str(plan["longest_streak"]),
            verdicts,
        )
    console.print(plans)
    reused = Table(title="Objective statements reused across clients (verbatim or near)")
    for column in ("statement", "clients", "where"):
        reused.add_column(column)
    for item in report["reused_objectives"]:
        where = "; ".join(
            f"{u['client_name']} ({u['label']})"
            + (f": {u['statement']}" if item.get("near") else "")
            for u in item["uses"]
        )
        reused.add_row(
            item["statement"] + (" (a word or two changed)" if item.get("near") else ""),
            str(item["clients"]),
            where,
        )
    console.print(reused)
