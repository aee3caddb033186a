"""``plantrail client-access``, ``plantrail disclosures`` and ``plantrail break-glass``: the
client's access links, the accounting of who read a plan, and the emergency reads an admin
reviews. The same tables and rules as the HTTP routes (``routes_client``, ``routes_reports``):
only the plan's clinician manages its links, only an admin reviews a break-glass read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from plantrail.api.cli.acting import Acting, AsUser, acting
from plantrail.api.cli.app import app
from plantrail.api.cli.context import service_for
from plantrail.api.cli.options import DEFAULT_BASE_URL, BaseUrl, Database, Json, KeyDir
from plantrail.api.cli.output import console, print_json
from plantrail.domain.errors import InvalidInput, PlanNotFound
from plantrail.domain.service import PlanService
from plantrail.projections.access.access_log import AccessLog
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.break_glass import BreakGlass
from plantrail.projections.access.client_access import DEFAULT_DAYS, MAX_DAYS, sign_in_path
from plantrail.projections.access.disclosures import MAX_LIMIT, disclosures
from plantrail.projections.access.gateway import PlanHeader
from plantrail.projections.assembly import recorder_of
from plantrail.projections.store.recorder import to_micros

client_access_app = typer.Typer(
    help="Client access links: a client's own, expiring, revocable key to their plan.",
    no_args_is_help=True,
)
break_glass_app = typer.Typer(
    help="Emergency (break-glass) reads and their review by an admin.", no_args_is_help=True
)
app.add_typer(client_access_app, name="client-access")
app.add_typer(break_glass_app, name="break-glass")

PlanArg = Annotated[str, typer.Argument(help="Plan id, a unique start of one, or the client's MRN")]
Clinician = Annotated[
    str, typer.Option("--as", help="The plan's clinician (user id): who issues or revokes")
]


def _accounts(service: PlanService) -> Accounts:
    accounts = Accounts(recorder_of(service).engine)
    accounts.create_tables()
    accounts.clients.clock_us = lambda: to_micros(service.clock())
    return accounts


def _own_plan(act: Acting, plan: str, action: str) -> PlanHeader:
    """The plan's header when the acting user is its clinician (the rule of the HTTP routes)."""
    plan_id = act.resolve(plan)
    try:
        return act.gateway.own_plan(act.caller, plan_id, act.entry, action)
    except PlanNotFound:
        # The operator holds the store, so naming the plan here reveals nothing to them.
        raise InvalidInput.on(
            "as",
            f"{act.caller.user_id} is not the clinician of plan {plan_id}: only they manage its "
            "links",
        ) from None


def _when(value: str | None) -> str:
    return value[:19].replace("T", " ") if value else ""


@client_access_app.command("issue")
def issue_command(
    plan: PlanArg,
    user: Clinician,
    days: Annotated[
        int, typer.Option("--days", help=f"How long the link works (1–{MAX_DAYS} days)")
    ] = DEFAULT_DAYS,
    base_url: BaseUrl = DEFAULT_BASE_URL,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Issue the plan's client a link; prints its key once (it is not kept)."""
    with acting(db, keys, user, "client-access") as act:
        found = _own_plan(act, plan, "client-access:issue")
        plan_id = str(found.plan_id)
        grant, token = act.accounts.clients.issue(
            plan_id=found.plan_id, client_id=found.client_id or "",
            client_name=found.client_name or "", issued_by=act.caller.user_id, days=days,
        )  # fmt: skip
    shown = {**grant.as_dict(act.accounts.clients.clock_us()), "token": token,
             "sign_in_path": sign_in_path(token),
             "sign_in_url": f"{base_url.rstrip('/')}{sign_in_path(token)}"}  # fmt: skip
    if json:
        print_json(shown)
        return
    console.print(f"client access link {grant.grant_id} for {grant.client_name}, plan {plan_id}")
    console.print(f"expires {_when(shown['expires_at'])} UTC")
    console.print(f"key (shown once): {token}", soft_wrap=True)
    console.print(f"page: {base_url.rstrip('/')}{sign_in_path(token)}", soft_wrap=True)


@client_access_app.command("list")
def list_command(
    plan: PlanArg,
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """The plan's client access links (never their keys)."""
    with acting(db, keys, user, "client-access") as act:
        plan_id = act.resolve(plan)
        act.gateway.reach(act.caller, plan_id, act.entry, "client-access:list")
        now = act.accounts.clients.clock_us()
        rows = [g.as_dict(now) for g in act.accounts.clients.grants(plan_id)]
    if json:
        print_json(rows)
        return
    table = Table(title=f"Client access links of plan {plan_id}")
    for column in ("grant", "client", "issued by", "issued (UTC)", "expires (UTC)", "status"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["grant_id"], row["client_name"], row["issued_by"],
                      _when(row["issued_at"]), _when(row["expires_at"]), row["status"])  # fmt: skip
    console.print(table)


@client_access_app.command("revoke")
def revoke_command(
    plan: PlanArg,
    grant: Annotated[str, typer.Argument(help="The link's grant id (see client-access list)")],
    user: Clinician,
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """Revoke one of the plan's client access links at once."""
    with acting(db, keys, user, "client-access") as act:
        header = _own_plan(act, plan, "client-access:revoke")
        found = act.accounts.clients.revoke(header.plan_id, grant, act.caller.user_id)
    console.print(f"client access link {found.grant_id} revoked (it no longer opens the plan)")


@app.command("disclosures")
def disclosures_command(
    plan: PlanArg,
    after: Annotated[int, typer.Option("--after", min=0, help="Rows after this one")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_LIMIT)] = 500,
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Who read or changed the plan, and when: the accounting of access for its client."""
    with acting(db, keys, user, "disclosures") as act:
        plan_id = act.resolve(plan)
        act.gateway.disclosure_reach(act.caller, plan_id, act.entry)
        engine = recorder_of(act.service).engine
        AccessLog(engine, None, datetime.now).create_tables()
        names = {u.user_id: u.name for u in act.accounts.list_users()}
        found = disclosures(engine, str(plan_id), names=names, after=after, limit=limit)
    if json:
        print_json(found)
        return
    table = Table(title=f"Accesses to plan {plan_id}")
    for column in ("#", "when (UTC)", "who", "role", "access", "what", "emergency reason"):
        table.add_column(column)
    for row in found["disclosures"]:
        table.add_row(str(row["seq"]), _when(row["recorded_at"]), row["name"] or row["user_id"],
                      row["role"] or "", row["access"], row["action"],
                      row["break_glass_reason"] or "")  # fmt: skip
    console.print(table)
    if found["next_after"] is not None:
        console.print(f"more: plantrail disclosures {plan} --after {found['next_after']}")


@break_glass_app.command("list")
def break_glass_list(
    unreviewed: Annotated[bool, typer.Option("--unreviewed", help="Only unreviewed")] = False,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Every emergency read of a plan outside the reader's reach, with its review."""
    service = service_for(db, keys)
    glass = BreakGlass(recorder_of(service).engine, service.clock)
    glass.create_tables()
    rows = [r.as_dict() for r in glass.reads(unreviewed_only=unreviewed)]
    if json:
        print_json(rows)
        return
    table = Table(title="Break-glass reads")
    for column in ("#", "when (UTC)", "who", "plan", "reason", "review"):
        table.add_column(column)
    for row in rows:
        review = row["review"]
        verdict = f"{review['reviewed_by']}: {review['note']}" if review else "UNREVIEWED"
        table.add_row(str(row["seq"]), _when(row["recorded_at"]),
                      f"{row['user_id']} ({row['role']})", row["plan_id"] or "", row["reason"],
                      verdict)  # fmt: skip
    console.print(table)


@break_glass_app.command("review")
def break_glass_review(
    seq: Annotated[int, typer.Argument(min=1, help="The read's access-log number")],
    admin: Annotated[str, typer.Option("--as", help="The reviewing admin (user id)")],
    note: Annotated[str, typer.Option("--note", help="What the review found")],
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """Record an admin's review of one break-glass read (once; it ends the plan's finding)."""
    service = service_for(db, keys)
    user = _accounts(service).get(admin)
    if user is None or user.role != "admin" or user.disabled:
        raise InvalidInput.on("as", f"{admin!r} is not an active admin: only an admin reviews")
    glass = BreakGlass(recorder_of(service).engine, service.clock)
    glass.create_tables()
    done = glass.review(seq, admin, note)
    console.print(f"break-glass read {done.seq} by {done.user_id} reviewed by {admin}")
