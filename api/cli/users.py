"""``plantrail users add | list | disable | token | passwd | link``: who may use the HTTP API
and the web pages.

A token is printed once, when it is made, and only its Argon2 hash is stored: lose it and issue
a new one with ``plantrail users token USER_ID``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Engine

from plantrail.api.cli.app import app
from plantrail.api.cli.options import Database, Json
from plantrail.api.cli.output import console, print_json
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.policy import ROLES
from plantrail.projections.store.engine import DEFAULT_URL, create_store_engine

users_app = typer.Typer(
    name="users",
    help="Manage the users of the HTTP API and their tokens.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(users_app)

DEMO_USERS: tuple[dict[str, Any], ...] = (
    {"user_id": "sam-okafor", "name": "Sam Okafor", "role": "supervisor",
     "credentials": "PhD, LP", "license_number": "LP-20931"},
    {"user_id": "dana-reyes", "name": "Dana Reyes", "role": "clinician", "credentials": "LCSW",
     "license_number": "LC-4471", "supervisor_id": "sam-okafor"},
    {"user_id": "marcus-hill", "name": "Marcus Hill", "role": "clinician", "credentials": "LPC",
     "license_number": "LPC-88120", "supervisor_id": "sam-okafor"},
    {"user_id": "priya-shah", "name": "Priya Shah", "role": "clinician", "credentials": "PsyD",
     "license_number": "PSY-31877", "supervisor_id": "sam-okafor"},
    {"user_id": "alex-kim", "name": "Alex Kim", "role": "auditor", "credentials": "RHIA"},
    {"user_id": "admin", "name": "Practice Admin", "role": "admin"},
)  # fmt: skip
"""The demo practice: three clinicians under one supervisor, an auditor and an admin."""


def create_demo_users(engine: Engine) -> list[dict[str, Any]]:
    """Create the demo users on ``engine``; each dict has user_id, name, role, credentials and
    the token (shown this once)."""
    accounts = Accounts(engine)
    accounts.create_tables()
    out = []
    for spec in DEMO_USERS:
        user, token = accounts.add_user(**spec)
        out.append(
            {
                "user_id": user.user_id,
                "name": user.name,
                "role": user.role,
                "credentials": user.credentials,
                "token": token,
            }
        )
    return out


@contextmanager
def accounts_for(db: str | None) -> Iterator[Accounts]:
    engine = create_store_engine(db or DEFAULT_URL)
    try:
        accounts = Accounts(engine)
        accounts.create_tables()
        yield accounts
    finally:
        engine.dispose()


@users_app.command("add")
def add_command(
    name: Annotated[str, typer.Option("--name", help="Full name, e.g. 'Dana Reyes'")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}")],
    credentials: Annotated[
        str | None, typer.Option("--credentials", help="e.g. LCSW, PhD (shown on signatures)")
    ] = None,
    license_number: Annotated[str | None, typer.Option("--license", help="License number")] = None,
    supervisor: Annotated[
        str | None, typer.Option("--supervisor", help="User id of this clinician's supervisor")
    ] = None,
    user_id: Annotated[
        str | None, typer.Option("--id", help="User id (default: from the name, e.g. dana-reyes)")
    ] = None,
    db: Database = None,
    json: Json = False,
) -> None:
    """Add a user and print their API token (once: only its hash is kept)."""
    with accounts_for(db) as accounts:
        user, token = accounts.add_user(
            name=name,
            role=role,
            credentials=credentials,
            license_number=license_number,
            supervisor_id=supervisor,
            user_id=user_id,
        )
    if json:
        print_json({"user_id": user.user_id, "token": token})
        return
    console.print(f"added {user.user_id} ({user.role})")
    console.print(f"token (shown once, keep it safe): {token}")
    console.print(f"lost it? 'plantrail users token {user.user_id}' issues a new one")


@users_app.command("list")
def list_command(db: Database = None, json: Json = False) -> None:
    """List every user with role, credentials, supervisor and status."""
    with accounts_for(db) as accounts:
        found = accounts.list_users()
    if json:
        print_json([user.as_dict() for user in found])
        return
    table = Table(title="Users")
    for column in ("id", "name", "role", "credentials", "license", "supervisor", "status"):
        table.add_column(column)
    for user in found:
        table.add_row(
            user.user_id,
            user.name,
            user.role,
            user.credentials or "",
            user.license_number or "",
            ", ".join(user.supervisor_ids),
            "disabled" if user.disabled else "active",
        )
    console.print(table)


@users_app.command("passwd")
def passwd_command(
    user_id: Annotated[str, typer.Argument(help="The user who signs in to the web pages")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    db: Database = None,
) -> None:
    """Set a user's password for the web pages (asked twice, never echoed; Argon2 only)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with accounts_for(db) as accounts:
        accounts.set_password(user_id, password)
    console.print(f"password set for {user_id}: they can sign in at /web/sign-in")


@users_app.command("disable")
def disable_command(
    user_id: Annotated[str, typer.Argument(help="The user to disable")],
    db: Database = None,
    json: Json = False,
) -> None:
    """Disable a user: their tokens stop working at once (their entries stay in every record)."""
    with accounts_for(db) as accounts:
        user = accounts.disable(user_id)
    if json:
        print_json(user.as_dict())
    else:
        console.print(f"disabled {user.user_id}")


@users_app.command("token")
def token_command(
    user_id: Annotated[str, typer.Argument(help="The user who needs a new token")],
    db: Database = None,
    json: Json = False,
) -> None:
    """Issue a new token for a user; their earlier tokens stop working."""
    with accounts_for(db) as accounts:
        token = accounts.issue_token(user_id)
    if json:
        print_json({"user_id": user_id, "token": token})
    else:
        console.print(f"token for {user_id} (shown once, keep it safe): {token}")


@users_app.command("link")
def link_command(
    supervisor: Annotated[str, typer.Option("--supervisor", help="The supervisor's user id")],
    supervisee: Annotated[str, typer.Option("--supervisee", help="The clinician's user id")],
    db: Database = None,
) -> None:
    """Make a supervisor the supervisor of a clinician (they then read that clinician's plans)."""
    with accounts_for(db) as accounts:
        accounts.link(supervisor, supervisee)
    console.print(f"{supervisor} now supervises {supervisee}")
