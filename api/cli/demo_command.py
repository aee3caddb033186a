"""``plantrail demo``: write the demo caseload into an empty store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.progress import Progress

from plantrail.api.cli.app import app
from plantrail.api.cli.context import service_for
from plantrail.api.cli.options import DEFAULT_BASE_URL, BaseUrl, Database, Json, KeyDir
from plantrail.api.cli.output import console, fail, print_json
from plantrail.api.cli.users import create_demo_users
from plantrail.api.demo import DemoPlan, load_demo
from plantrail.projections.access.accounts import Accounts
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
def demo(
    base_url: BaseUrl = DEFAULT_BASE_URL,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Write a realistic sample caseload (7 plans, 3 clinicians, a supervisor) and its users."""
    service = service_for(db, keys, create=True)
    recorder = recorder_of(service)
    existing = len(recorder.plan_ids())
    if existing:
        fail(f"the database already holds {existing} plans; point --db at a new file")
    with Progress(console=console, transient=True, disable=json) as progress:
        task = progress.add_task("writing the demo caseload", total=None)
        plans = load_demo(service)
        progress.update(task, completed=1, total=1)
    # The caseload names its clinicians; without their accounts nobody could sign in to see
    # it. A store that already has users keeps them and gets none of ours.
    accounts = Accounts(recorder.engine)
    accounts.create_tables()
    users = create_demo_users(recorder.engine) if not accounts.list_users() else []
    if json:
        print_json([plan.__dict__ for plan in plans])  # the users: plantrail users list
        return
    # Repeat what the user typed, so the example commands reach the same store.
    where = (f" --db {db}" if db else "") + (f" --keys {keys}" if keys else "")
    print_demo_plans(plans, where)
    _print_sign_in(users, base_url.rstrip("/"), where)


def _print_sign_in(users: Sequence[dict[str, Any]], base: str, where: str) -> None:
    """How to see the demo: start the server, and each user's token to sign in with."""
    console.print(
        f"\nTo see it in a browser, start the server:\n  plantrail serve{where}\n"
        f"then open {base}/web/ and sign in by pasting a token:",
        soft_wrap=True,
    )
    if not users:
        console.print(
            "  this store already had users, so none were added; get one a token with\n"
            f"  plantrail users token USER_ID{where}",
            soft_wrap=True,
        )
        return
    for user in users:
        console.print(f"  {user['user_id']} ({user['role']}): {user['token']}", soft_wrap=True)
    console.print(
        "Tokens are shown once; a new one (which replaces the old): "
        f"plantrail users token USER_ID{where}",
        soft_wrap=True,
    )
