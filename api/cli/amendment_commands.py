"""``plantrail amendments``: a client's requests to amend a plan (45 CFR 164.526) and each step.

Every command runs *as* a named user (``--as``, required) through the API's own command path,
``PlanGateway.execute``: the role rule, the plan's reach, then the engine's rules (ADR 0012),
so the CLI refuses exactly what ``POST /plans/{id}/amendments…`` refuses, with one readable
line and nothing stored. Each command is one access-log record, as each HTTP request is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from plantrail.api.cli.acting import acting
from plantrail.api.cli.app import app
from plantrail.api.cli.options import Database, Json, KeyDir
from plantrail.api.cli.output import console, print_json
from plantrail.domain import commands as cmd
from plantrail.domain.parsing import parse_command
from plantrail.projections.document import amendment_row

amendments_app = typer.Typer(
    help="Requests to amend a plan (45 CFR 164.526): record one and each step, or list them.",
    no_args_is_help=True,
)
app.add_typer(amendments_app, name="amendments")

T = TypeVar("T")

PlanArg = Annotated[str, typer.Argument(help="Plan id, a unique start of one, or the client's MRN")]
AmendmentArg = Annotated[
    str, typer.Argument(help="The request's id (see plantrail amendments list)")
]
AsUser = Annotated[
    str, typer.Option("--as", help="The user recording it: the plan's clinician (users list)")
]
EffectiveDate = Annotated[
    str | None,
    typer.Option("--effective-date", help="Clinical date of the step (default today)"),
]


def _run(
    db: str | None,
    keys: Any,
    user: str,
    plan: str,
    route: str,
    model: type[cmd.Command],
    fields: dict[str, Any],
    effective_date: str | None,
    describe: Callable[[Any], str],
) -> None:
    with acting(db, keys, user, f"amendments {route}") as act:
        plan_id = act.resolve(plan)
        command = parse_command(model, {k: v for k, v in fields.items() if v is not None})
        envelope = {"effective_date": effective_date} if effective_date else {}
        result = act.gateway.execute(
            act.caller,
            plan_id,
            command,  # type: ignore[arg-type]
            envelope,
            if_match=None,
            idempotency_key=None,
            entry=act.entry,
        )
    console.print(f"{describe(result)} (plan {result.plan_id}, version {result.version})")


@amendments_app.command("request")
def request_command(
    plan: PlanArg,
    user: AsUser,
    concerns: Annotated[str, typer.Option("--concerns", help="The part of the plan, in words")],
    change: Annotated[str, typer.Option("--change", help="What the client asks to change")],
    reason: Annotated[str, typer.Option("--reason", help="Why, in the client's words")],
    received_on: Annotated[
        str, typer.Option("--received-on", help="Day the written request arrived (YYYY-MM-DD)")
    ],
    requested_by: Annotated[
        str, typer.Option("--requested-by", help="The client, or their personal representative")
    ],
    item: Annotated[
        list[str] | None,
        typer.Option("--item", help="An item the request names (id or diagnosis code); repeat"),
    ] = None,
    effective_date: EffectiveDate = None,
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """Record a client's written request to amend the plan, as received."""
    _run(
        db, keys, user, plan, "request", cmd.RequestAmendment,
        {
            "concerns": concerns, "requested_change": change, "reason": reason,
            "received_on": received_on, "requested_by": requested_by, "item_ids": item or [],
        },
        effective_date,
        lambda r: f"recorded {r.label or 'the request'}: id {r.item_id}",
    )  # fmt: skip


@amendments_app.command("extend")
def extend_command(
    plan: PlanArg,
    amendment: AmendmentArg,
    user: AsUser,
    due: Annotated[str, typer.Option("--due", help="The new due date (YYYY-MM-DD)")],
    reason: Annotated[str, typer.Option("--reason", help="The written reason for the delay")],
    effective_date: EffectiveDate = None,
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """Extend a request's deadline, once, by at most 30 days."""
    _run(
        db, keys, user, plan, "extend", cmd.ExtendAmendmentDeadline,
        {"amendment_id": amendment, "new_due_date": due, "reason": reason},
        effective_date, lambda _: f"extended request {amendment} to {due}",
    )  # fmt: skip


@amendments_app.command("accept")
def accept_command(
    plan: PlanArg,
    amendment: AmendmentArg,
    user: AsUser,
    version: Annotated[
        int, typer.Option("--version", help="The revision (labelled amendment) that carries it out")
    ],
    notified: Annotated[str, typer.Option("--notified", help="Who was told of the amendment")],
    effective_date: EffectiveDate = None,
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """Accept a request, naming the revision that carried it out."""
    _run(
        db, keys, user, plan, "accept", cmd.AcceptAmendment,
        {"amendment_id": amendment, "carried_out_in_version": version, "notified": notified},
        effective_date, lambda _: f"accepted request {amendment}, carried out in version {version}",
    )  # fmt: skip


@amendments_app.command("deny")
def deny_command(
    plan: PlanArg,
    amendment: AmendmentArg,
    user: AsUser,
    basis: Annotated[
        str,
        typer.Option(
            "--basis",
            help="not_created_by_practice, not_in_designated_record_set, "
            "not_available_for_inspection or accurate_and_complete",
        ),
    ],
    text: Annotated[str, typer.Option("--text", help="The written denial, in plain language")],
    effective_date: EffectiveDate = None,
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """Deny a request on a ground of 45 CFR 164.526(a)(2)."""
    _run(
        db, keys, user, plan, "deny", cmd.DenyAmendment,
        {"amendment_id": amendment, "denial_basis": basis, "denial_text": text},
        effective_date, lambda _: f"denied request {amendment} ({basis.replace('_', ' ')})",
    )  # fmt: skip


@amendments_app.command("disagreement")
def disagreement_command(
    plan: PlanArg,
    amendment: AmendmentArg,
    user: AsUser,
    statement: Annotated[
        str, typer.Option("--statement", help="The client's statement, in their words")
    ],
    effective_date: EffectiveDate = None,
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """File the client's statement of disagreement with a denial (recorded for the client)."""
    _run(
        db, keys, user, plan, "disagreement", cmd.FileDisagreementStatement,
        {"amendment_id": amendment, "statement": statement},
        effective_date, lambda _: f"filed the statement of disagreement on request {amendment}",
    )  # fmt: skip


@amendments_app.command("rebuttal")
def rebuttal_command(
    plan: PlanArg,
    amendment: AmendmentArg,
    user: AsUser,
    rebuttal: Annotated[str, typer.Option("--text", help="The practice's rebuttal")],
    effective_date: EffectiveDate = None,
    db: Database = None,
    keys: KeyDir = None,
) -> None:
    """File the practice's rebuttal of a statement of disagreement."""
    _run(
        db, keys, user, plan, "rebuttal", cmd.FileRebuttal,
        {"amendment_id": amendment, "rebuttal": rebuttal},
        effective_date, lambda _: f"filed the rebuttal on request {amendment}",
    )  # fmt: skip


@amendments_app.command("list")
def list_command(
    plan: PlanArg,
    user: AsUser,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """A plan's requests with their deadlines, decisions and statements."""
    with acting(db, keys, user, "amendments list") as act:
        plan_id = act.resolve(plan)
        state = act.gateway.state(act.caller, plan_id, act.entry, view="amendments")
    today = act.service.clock().date()
    rows = [amendment_row(state, a, today) for a in state.amendments.values()]
    if json:
        print_json(rows)
        return
    if not rows:
        console.print("no amendment has been requested")
        return
    for row in rows:
        due = f"due {row['due_date']}" + (" (OVERDUE)" if row["overdue"] else "")
        console.print(f"{row['label']} [{row['id']}]: {row['status']}, {due}", soft_wrap=True)
        console.print(f"  received {row['received_on']} from {row['requested_by']}: "
                      f"{row['requested_change']}", soft_wrap=True)  # fmt: skip
        decision = row["decision"] or {}
        if decision.get("carried_out_in_version"):
            console.print(f"  carried out in version {decision['carried_out_in_version']}")
        if decision.get("denial_basis"):
            console.print(f"  denied ({decision['denial_basis'].replace('_', ' ')}): "
                          f"{decision['denial_text']}", soft_wrap=True)  # fmt: skip
        if row["disagreement_statement"]:
            said = row["disagreement_statement"]["statement"]
            console.print(f"  statement of disagreement: {said}", soft_wrap=True)
        if row["rebuttal"]:
            console.print(f"  rebuttal: {row['rebuttal']['rebuttal']}", soft_wrap=True)
