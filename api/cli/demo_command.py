"""``plantrail demo``: write the demo caseload into an empty store."""

from __future__ import annotations

from rich.progress import Progress
from rich.table import Table

from plantrail.api.cli.context import service_for
from plantrail.api.cli.main import app
from plantrail.api.cli.options import Database, Json, KeyDir
from plantrail.api.cli.output import console, fail, print_json
from plantrail.api.demo import load_demo
from plantrail.projections.store.factory import recorder_of


@app.command()
def demo(db: Database = None, keys: KeyDir = None, json: Json = False) -> None:
    """Write a realistic sample caseload (5 plans, 3 clinicians, a supervisor)."""
    service = service_for(db, keys)
    existing = len(recorder_of(service).plan_ids())
    if existing:
        fail(f"the database already holds {existing} plans; point --db at a new file")
    with Progress(console=console, transient=True, disable=json) as progress:
        task = progress.add_task("writing the demo caseload", total=None)
        plans = load_demo(service)
        progress.update(task, completed=1, total=1)
    if json:
        print_json([plan.__dict__ for plan in plans])
        return
    table = Table(title="Demo caseload")
    table.add_column("plan", no_wrap=True)
    table.add_column("client", no_wrap=True)
    table.add_column("clinician", no_wrap=True)
    table.add_column("what it shows")
    for plan in plans:
        table.add_row(str(plan.plan_id), plan.client, plan.clinician, plan.story)
    console.print(table)
