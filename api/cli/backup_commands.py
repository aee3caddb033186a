"""``plantrail backup | restore``: a consistent copy of the whole store, verified.

The copying is ``projections/store/backup.py``; this module adds what an operator sees (the
progress, the summary) and the verification of the copy, which is ``plantrail verify``'s own
(``store_commands.run_verify``) run on the copy, not on the store it came from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from plantrail.api.cli.access_log_commands import access_log_report, print_access_log_report
from plantrail.api.cli.app import app
from plantrail.api.cli.context import require_store, resolve_keys, service_for
from plantrail.api.cli.options import Database, Json, KeyDir
from plantrail.api.cli.output import console, fail, print_json
from plantrail.api.cli.output import errors as errors_console
from plantrail.projections.assembly import recorder_of
from plantrail.projections.integrity.checkpoint import latest_checkpoint
from plantrail.projections.integrity.keys import Keys, load_keys
from plantrail.projections.integrity.verify import Report
from plantrail.projections.store import backup as store_backup
from plantrail.projections.store.engine import DEFAULT_URL, normalise_url


@dataclass(frozen=True)
class Checked:
    report: Report
    access_log_ok: bool
    access_log_entries: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.report.ok and self.access_log_ok


def _verify_store(url: str, key_dir: Path, loaded: Keys, checkpoint: Path | None) -> Checked:
    """``plantrail verify`` on the store at ``url``: chains, the store's own check, the
    checkpoint when given, and the access log."""
    # Imported here: at import time it would register the store commands before the ones
    # declared ahead of them, and reorder docs/cli.md.
    from plantrail.api.cli.store_commands import print_problems, run_verify

    started = time.monotonic()
    service = service_for(url, key_dir)
    try:
        report = run_verify(service, loaded, None, checkpoint)
    finally:
        service.close()
        recorder_of(service).close()
    log = access_log_report(url, key_dir)
    if not report.ok or not log.ok:
        print_problems(report)
        print_access_log_report(log)
    return Checked(report, log.ok, log.entries_checked, time.monotonic() - started)


@contextmanager
def _progress(verb: str, sqlite: bool) -> Iterator[tuple[store_backup.Progress, store_backup.Step]]:
    """A bar of pages for SQLite; a spinner naming the table for PostgreSQL."""
    columns = (
        (TextColumn(verb), BarColumn(), TextColumn("{task.percentage:>3.0f}% of pages"))
        if sqlite
        else (SpinnerColumn(), TextColumn(f"{verb} {{task.description}}"))
    )
    with Progress(
        *columns, TimeElapsedColumn(), console=errors_console, transient=True
    ) as progress:
        task = progress.add_task("", total=None)

        def pages(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        def step(what: str) -> None:
            progress.update(task, description=what)

        yield pages, step


def _size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def _keys_for(keys: Path | None) -> tuple[Path, Keys]:
    key_dir = resolve_keys(keys)
    return key_dir, load_keys(key_dir)


@app.command("backup")
def backup_command(
    dest: Annotated[Path, typer.Argument(help="The backup file to write")],
    keys_backed_up: Annotated[
        bool,
        typer.Option(
            "--keys-backed-up",
            help="Acknowledge that the key directory is backed up elsewhere (it is never in "
            "the backup); without it, a warning",
        ),
    ] = False,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            "--checkpoints",
            help="Checkpoint folder whose newest file the copy is verified against "
            "(default: <keys>/../checkpoints)",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite DEST if it exists")] = False,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Copy the whole store while the server runs, then verify the copy.

    SQLite: the online backup API. PostgreSQL: pg_dump (custom format). The copy is opened as
    a store and verified as 'plantrail verify' would, against the newest checkpoint."""
    url = normalise_url(db or DEFAULT_URL)
    key_dir, loaded = _keys_for(keys)  # before anything is copied: the copy needs them
    require_store(url)
    sqlite = store_backup.is_sqlite_url(url)
    if not sqlite:
        store_backup.tool("pg_dump")
        store_backup.tool("pg_restore")
    if not keys_backed_up:
        errors_console.print(
            f"[yellow]warning:[/] the backup holds no keys, and without them it cannot be "
            f"verified or trusted: copy {key_dir} to a place of its own (not next to the "
            "backup; docs/integrity.md), then pass --keys-backed-up",
            markup=True,
            soft_wrap=True,
        )
    checkpoint = latest_checkpoint(checkpoints or key_dir.parent / "checkpoints")
    started = time.monotonic()
    with _progress("copying", sqlite) as (pages, step):
        copied = store_backup.backup(url, dest, force=force, progress=pages, step=step)
    if sqlite:
        checked = _verify_store(f"sqlite:///{dest.resolve()}", key_dir, loaded, checkpoint)
    else:
        checked = _verify_scratch(dest, url, key_dir, loaded, checkpoint)
    if not checked.ok:
        fail(
            f"the backup {dest.resolve()} FAILED verification "
            f"({len(checked.report.problems)} problems, access log "
            f"{'intact' if checked.access_log_ok else 'altered'}); it was kept but is no "
            "backup to rely on: run 'plantrail verify' on the store itself",
            1,
        )
    checksum = store_backup.write_checksum(dest)
    took = time.monotonic() - started
    _summary(
        "backup written",
        dest.resolve(),
        copied,
        checked,
        checkpoint,
        took,
        json=json,
        extra={"checksum": str(checksum.resolve())},
    )


def _verify_scratch(
    dest: Path, url: str, key_dir: Path, loaded: Keys, checkpoint: Path | None
) -> Checked:
    """A pg_dump archive can only be verified as a store: restored into a scratch database."""
    errors_console.print("verifying: restoring the archive into a scratch database")
    # No spinner around this: run_verify shows its own bar, and Rich runs one at a time.
    with store_backup.scratch_restore(dest, url) as copy_url:
        return _verify_store(copy_url, key_dir, loaded, checkpoint)


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="A file written by 'plantrail backup'")],
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint", help="Also verify the restored store against this signed checkpoint"
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a store that already holds events")
    ] = False,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Restore a backup into the store at --db (refused when it holds events, unless --force),
    then verify what was restored. Stop the server first."""
    url = normalise_url(db or DEFAULT_URL)
    key_dir, loaded = _keys_for(keys)
    if not store_backup.checksum_path(source).is_file() and source.is_file():
        errors_console.print(
            f"[yellow]warning:[/] no {store_backup.checksum_path(source).name} next to "
            f"{source}: the file cannot be checked for damage before it is restored",
            markup=True,
            soft_wrap=True,
        )
    started = time.monotonic()
    with _progress("restoring", store_backup.is_sqlite_url(url)) as (pages, step):
        copied = store_backup.restore(source, url, force=force, progress=pages, step=step)
    checked = _verify_store(url, key_dir, loaded, checkpoint)
    if not checked.ok:
        fail(
            f"the restored store FAILED verification ({len(checked.report.problems)} problems, "
            f"access log {'intact' if checked.access_log_ok else 'altered'}): do not serve it; "
            "restore an older backup",
            1,
        )
    took = time.monotonic() - started
    where = (
        store_backup.sqlite_path(url).resolve()
        if store_backup.is_sqlite_url(url)
        else store_backup.where(url)
    )
    _summary("restored", where, copied, checked, checkpoint, took, json=json, extra={})


def _summary(
    what: str,
    where: object,
    copied: store_backup.Copied,
    checked: Checked,
    checkpoint: Path | None,
    took: float,
    *,
    json: bool,
    extra: dict[str, str],
) -> None:
    report = checked.report
    against = str(checkpoint.resolve()) if checkpoint else None
    if json:
        print_json(
            {
                "path": str(where),
                "backend": copied.backend,
                "bytes": copied.size,
                "plans": report.plans_checked,
                "events": report.events_checked,
                "access_log_entries": checked.access_log_entries,
                "checkpoint": against,
                "ok": True,
                "copy_seconds": round(copied.seconds, 3),
                "verify_seconds": round(checked.seconds, 3),
                "seconds": round(took, 3),
                **extra,
            }
        )
        return
    size = f" ({_size(copied.size)})" if what == "backup written" else ""
    console.print(f"{what}: {where}{size}", soft_wrap=True)
    console.print(
        f"verified [green]OK[/]: {report.plans_checked} plans, {report.events_checked} events, "
        f"{checked.access_log_entries} access-log entries; "
        + (f"against checkpoint {against}" if against else "no checkpoint (chains only)"),
        soft_wrap=True,
    )
    console.print(
        f"took {took:.1f} s (copy {copied.seconds:.1f} s, verify {checked.seconds:.1f} s)"
        + (f"; checksum {extra['checksum']}" if "checksum" in extra else ""),
        soft_wrap=True,
    )
