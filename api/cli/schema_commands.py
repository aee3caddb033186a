"""``plantrail migrate``: upgrade the store's schema to the one this plantrail needs."""

from __future__ import annotations

from typing import Annotated

import typer

from plantrail.api.cli.app import app
from plantrail.api.cli.context import require_store
from plantrail.api.cli.options import Database
from plantrail.api.cli.output import console
from plantrail.projections.migrations import HEAD
from plantrail.projections.store.engine import DEFAULT_URL, create_store_engine


@app.command()
def migrate(
    db: Database = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the pending steps and change nothing.")
    ] = False,
) -> None:
    """Upgrade the store's schema to this plantrail's, one step per transaction. Take a backup
    first; a step that fails is rolled back and the store stays at the step before it. Every
    other command refuses a store that is not at this plantrail's schema."""
    from plantrail.projections.migrations.runner import migrate as run_migrations

    url = db or DEFAULT_URL
    require_store(url)
    engine = create_store_engine(url)
    try:
        found = run_migrations(engine, dry_run=dry_run)
    finally:
        engine.dispose()
    at = found.before.described
    if not found.pending:
        console.print(f"the store is at schema {at}, the one this plantrail needs: nothing to do")
        return
    if dry_run:
        console.print(f"the store is at schema {at}; this plantrail needs {HEAD}. Pending steps:")
        for step in found.pending:
            console.print(f"  {step.revision}  {step.title}", highlight=False)
        return
    for step in found.applied:
        console.print(f"  {step.revision}  {step.title}: done", highlight=False)
    console.print(f"the store was at schema {at} and is now at {found.after}")
