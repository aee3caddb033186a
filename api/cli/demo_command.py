"""``plantrail demo``: write the demo caseload into an empty store."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from rich.progress import Progress

from plantrail.api.cli.app import app
from plantrail.api.cli.context import service_for
from plantrail.api.cli.options import Database, Json, KeyDir
from plantrail.api.cli.output import console, fail, print_json
from plantrail.api.demo import DemoPlan, load_demo
from plantrail.projections.assembly import recorder_of


def print_demo_plans(plans: Sequence[DemoPlan], where: str = "") -> None:
    """Each demo plan's id, client and MRN on one line that no terminal width cuts, then what
    it shows; and a first command to try. ``where`` is the ``--db``/``--keys`` to repeat."""
    console.print(f"Demo caseload ({len(plans)} plans): plan id, client (MRN), clinician")
    for plan in plans:
        console.print(
            f"  {plan.plan_id}  {plan.client} ({plan.client_id}), {plan.clinician}",
            soft_wrap=True,
        )
        console.print(f"      {escape(plan.story)}", soft_wrap=True)
    if plans:
        first = plans[0]
        console.print(
            "Commands take a plan id, an unambiguous start of one or the client's MRN, e.g.\n"
            f"  plantrail events {str(first.plan_id)[:8]}{where}\n"
            f"  plantrail show {first.client_id}{where}",
            soft_wrap=True,
        )


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
    # Repeat what the user typed, so the example commands reach the same store.
    where = (f" --db {db}" if db else "") + (f" --keys {keys}" if keys else "")
    print_demo_plans(plans, where)
