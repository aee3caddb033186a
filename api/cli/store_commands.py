"""``plantrail init | events | verify | checkpoint``: the store and its integrity."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from plantrail.api.cli.access_log_commands import access_log_report, print_access_log_report
from plantrail.api.cli.acting import Acting, AsUser, acting
from plantrail.api.cli.app import app
from plantrail.api.cli.context import resolve_keys, service_for
from plantrail.api.cli.options import Database, Json, KeyDir
from plantrail.api.cli.output import console, fail, print_json
from plantrail.api.cli.output import errors as errors_console
from plantrail.api.cli.plan_ref import plan_names, resolve_plan
from plantrail.domain.errors import PlanNotFound
from plantrail.domain.events import PlanEvent
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import recorder_of
from plantrail.projections.history import event_history
from plantrail.projections.integrity.checkpoint import (
    latest_checkpoint,
    read_checkpoint,
    sign_checkpoint,
    write_checkpoint,
)
from plantrail.projections.integrity.keys import Keys, create_keys, load_keys
from plantrail.projections.integrity.verify import STORE, Report, verify
from plantrail.projections.store.files import check_output, open_output
from plantrail.projections.store.transfer import export_lines, import_lines


@app.command()
def init(db: Database = None, keys: KeyDir = None) -> None:
    """Create the key directory (if missing) and the database tables."""
    key_dir = resolve_keys(keys)
    created = create_keys(key_dir)
    service = service_for(db, key_dir, create=True)
    service.close()
    console.print(f"keys: {key_dir} ({'created' if created else 'already there, kept'})")
    console.print("database: ready")


@app.command("events")
def events_command(
    plan: Annotated[str, typer.Argument(help="Plan id, a unique start of one, or client MRN")],
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Show a plan's full event history: who, when (recorded and effective), what, why."""
    with acting(db, keys, user, "events") as act:
        plan_id = act.resolve(plan)
        events = act.gateway.events(act.caller, plan_id, act.entry, view="events")
    history = event_history(events)
    if json:
        print_json(history)
        return
    table = Table(title=f"Events of plan {plan_id}", show_lines=False)
    for column in ("v", "event", "recorded (UTC)", "effective", "kind", "by", "rationale"):
        table.add_column(column)
    for row in history:
        kind = row["entry_kind"] + (" (late)" if row["late_entry"] else "")
        table.add_row(
            str(row["version"]),
            row["type"],
            row["recorded_at"][:19].replace("T", " "),
            row["effective_date"],
            kind,
            f"{row['actor']['name']} ({row['actor']['role']})",
            row["rationale"] or "",
        )
    console.print(table)


def run_verify(
    service: PlanService, loaded: Keys, plan: str | None, checkpoint: Path | None
) -> Report:
    """What ``plantrail verify`` checks (also run by ``backup`` and ``restore`` on the copy)."""
    recorder = recorder_of(service)
    plan_id = resolve_plan(plan_names(service), plan) if plan else None
    if plan_id is not None and not recorder.plan_exists(plan_id):
        raise PlanNotFound(plan_id)
    signed = read_checkpoint(checkpoint, loaded.verify_key) if checkpoint else None
    total = recorder.max_notification_id() or 0
    with Progress(
        TextColumn("verifying"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} events"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=plan_id is not None,
    ) as progress:
        task = progress.add_task("verify", total=total)
        return verify(
            recorder,
            loaded.chain_key,
            plan_id=plan_id,
            checkpoint=signed,
            progress=lambda n: progress.advance(task, n),
        )


def print_problems(report: Report) -> bool:
    """One ``FAIL`` line per problem; whether the store itself is damaged."""
    damaged = False
    for problem in report.problems:
        if problem.plan_id == STORE:
            damaged = True
            console.print(f"[red]FAIL[/] store: {problem.kind}: {problem.message}")
            continue
        where = f"version {problem.version}" if problem.version else "plan"
        console.print(
            f"[red]FAIL[/] plan {problem.plan_id} {where}: {problem.kind}: {problem.message}"
        )
    return damaged


@app.command("verify")
def verify_command(
    plan: Annotated[str | None, typer.Option("--plan", help="Check one plan only")] = None,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="Also check against this signed checkpoint")
    ] = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Recompute every plan's hash chain; report the first bad event of each plan."""
    key_dir = resolve_keys(keys)
    report = run_verify(service_for(db, key_dir), load_keys(key_dir), plan, checkpoint)
    log_report = access_log_report(db, keys)
    if json:
        print_json({**report.as_dict(), "access_log": log_report.as_dict()})
    else:
        damaged = print_problems(report)
        verdict = (
            "[green]OK[/]"
            if report.ok
            else "[red]STORE DAMAGED[/]"
            if damaged
            else "[red]TAMPERING DETECTED[/]"
        )
        console.print(
            f"{verdict}: {report.plans_checked} plans, {report.events_checked} events checked, "
            f"{len(report.problems)} problems"
        )
        print_access_log_report(log_report)
    if not report.ok or not log_report.ok:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint_command(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Checkpoint folder (default: <keys>/../checkpoints)"),
    ] = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Sign every plan's head with Ed25519 into a file outside the database."""
    key_dir = resolve_keys(keys)
    loaded = load_keys(key_dir)
    if loaded.signing_key is None:
        fail(
            f"no private signing key in {key_dir}: checkpoints are signed where the keys were made"
        )
    folder = out or key_dir.parent / "checkpoints"
    previous = latest_checkpoint(folder)
    # Never sign over a rewrite: the store must still agree with the last checkpoint.
    service = service_for(db, key_dir)
    report = run_verify(service, loaded, None, previous)
    if not report.ok:
        fail(
            f"refusing to sign: verify found {len(report.problems)} problem(s) "
            f"(run 'plantrail verify{' --checkpoint ' + str(previous) if previous else ''}')",
            1,
        )
    signed = sign_checkpoint(recorder_of(service).heads(), loaded.signing_key)
    # The full path: a relative --keys or --out would otherwise leave the user guessing where
    # the one file that proves the history was not rewritten went.
    path = write_checkpoint(signed, folder).resolve()
    if json:
        print_json({"path": str(path), **signed.body, "plans": len(signed.body["plans"])})
    else:
        console.print(
            f"checkpoint written: {path} ({signed.body['plan_count']} plans, "
            f"{signed.body['event_count']} events)",
            soft_wrap=True,
        )
        console.print(
            "Keep it (and copies) away from the database: it proves later that no one rewrote "
            f"the history. Check with: plantrail verify --checkpoint {path}",
            soft_wrap=True,
        )


@app.command("export")
def export_command(
    out: Annotated[
        Path,
        typer.Argument(help="JSON Lines file to write ('-' for stdout); with --fhir, a folder"),
    ],
    plan: Annotated[str | None, typer.Option("--plan", help="Export one plan only")] = None,
    as_fhir: Annotated[
        bool,
        typer.Option(
            "--fhir",
            help="FHIR R4 Bulk Data files instead: one NDJSON file per resource type and "
            "manifest.json (the Bulk Data completion manifest)",
        ),
    ] = False,
    bundles: Annotated[
        bool,
        typer.Option(
            "--bundles",
            help="With --fhir, also Bundle.ndjson: one self-contained collection Bundle per plan",
        ),
    ] = False,
    base_url: Annotated[
        str,
        typer.Option(
            "--base-url",
            help="With --fhir, the FHIR base the manifest's request names",
        ),
    ] = "http://127.0.0.1:8000/fhir",
    user: AsUser = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files")] = False,
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """Write events with all their metadata and chain hashes as JSON Lines (backup, migration),
    or with --fhir the plans as FHIR resources."""
    if as_fhir:
        with acting(db, keys, user, "export --fhir") as act:
            _export_fhir(
                act,
                act.resolve(plan) if plan else None,
                out,
                force=force,
                bundles=bundles,
                base_url=base_url,
            )
        return
    if bundles:
        fail("--bundles goes with --fhir")
    if str(out) != "-":
        check_output(out, force=force)
    service = service_for(db, keys)
    # A JSON Lines export is the store's backup, made by whoever holds the database file; it
    # reads no plan for a person, so it is not an access of one (docs/integrity.md).
    plan_id = resolve_plan(plan_names(service), plan) if plan else None
    lines = export_lines(recorder_of(service), plan_id)
    if str(out) == "-":
        for line in lines:
            sys.stdout.buffer.write(line)
        return
    count = -1
    with open_output(out, force=force) as handle:  # 0600: the whole record
        for line in lines:
            handle.write(line)
            count += 1
    errors_console.print(f"exported {count} events to {out}")


def _export_fhir(
    act: Acting, plan_id: UUID | None, out: Path, *, force: bool, bundles: bool, base_url: str
) -> None:
    from plantrail.api.cli.fhir_export import write_fhir_export

    if str(out) == "-" or (out.exists() and not out.is_dir()):
        fail(f"{out}: with --fhir, give a folder to write the files into")
    if out.is_symlink():
        fail(f"{out} is a symbolic link; give the folder's real path")
    if (
        not force
        and out.is_dir()
        and (any(out.glob("*.ndjson")) or (out / "manifest.json").exists())
    ):
        fail(f"{out} already holds an export; add --force to overwrite its files")
    service = act.service
    plan_ids = [plan_id] if plan_id else act.gateway.visible_plan_ids(act.caller)

    def disclosed(plan_id: UUID) -> list[PlanEvent]:
        """The plan read through the gateway: an export discloses every plan it writes, so
        each is its own access-log record."""
        return act.gateway.events(act.caller, plan_id, act.another_entry(), view="export:fhir")

    with Progress(
        TextColumn("exporting"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} plans"),
        console=errors_console,
        transient=True,
    ) as progress:
        task = progress.add_task("export", total=len(plan_ids))
        counts = write_fhir_export(
            disclosed,
            plan_ids,
            out,
            now=service.clock(),
            base_url=base_url,
            plan_id=plan_id,
            bundles=bundles,
            progress=lambda n: progress.advance(task, n),
            force=force,
        )
    listed = ", ".join(f"{counts[kind]} {kind}" for kind in sorted(counts))
    errors_console.print(f"exported {len(plan_ids)} plans to {out}: {listed}", soft_wrap=True)


@app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="JSON Lines file written by 'plantrail export'")],
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """Load an export, verifying every chain; refuses the whole file at the first bad event."""
    if not source.is_file():
        fail(f"{source} is not a file")
    service = service_for(db, keys, create=True)
    recorder = recorder_of(service)
    total = max(sum(1 for _ in source.open("rb")) - 1, 0)
    with (
        source.open("rb") as handle,
        Progress(
            TextColumn("importing"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} events"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("import", total=total)
        result = import_lines(
            service, recorder, handle, progress=lambda n: progress.advance(task, n)
        )
    console.print(
        f"imported {result.events} events of {result.plans} plans "
        f"({result.snapshots} snapshots taken); chains verified"
    )
