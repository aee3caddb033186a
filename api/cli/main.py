"""The ``plantrail`` command line: the Typer app (``cli.app``) with every command module's
commands, run with errors as one readable line.

Errors are one readable line on stderr and a non-zero exit, never a traceback
(set PLANTRAIL_DEBUG=1 to see one when reporting a bug).
"""

from __future__ import annotations

import os
import sys

import typer

from plantrail.api.cli.app import app
from plantrail.domain.errors import PlantrailError


def register() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from plantrail.api.cli import (  # noqa: F401
        access_log_commands,
        amendment_commands,
        backup_commands,
        caseload_commands,
        client_rights_commands,
        demo_command,
        packet_commands,
        schema_commands,
        serve,
        store_commands,
        users,
        views,
    )


def _usage_errors() -> tuple[type[Exception], ...]:
    """Typer 0.2x vendors click; accept both its and click's usage errors."""
    found: list[type[Exception]] = []
    try:
        from typer._click.exceptions import ClickException as Vendored  # type: ignore[import-not-found,unused-ignore]

        found.append(Vendored)
    except ImportError:
        pass
    try:
        import click

        found.append(click.ClickException)
    except ImportError:
        pass
    return tuple(found)


def run() -> None:
    """Console-script entry point."""
    from plantrail.api.cli.output import fail
    from plantrail.api.routing.problems import out_of_range

    register()
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        fail("aborted", 130)
    except _usage_errors() as error:
        fail(getattr(error, "format_message", error.__str__)(), getattr(error, "exit_code", 2) or 2)
    except PlantrailError as error:
        fail(error.message)
    except OverflowError:
        # A date at the edge of the calendar (a period ending 9999-12-31): the user's input.
        fail(out_of_range().message)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except SystemExit:
        raise
    except Exception as error:  # the last line of defence: never show a user a traceback
        if os.environ.get("PLANTRAIL_DEBUG"):
            raise
        fail(f"internal error ({type(error).__name__}: {error}); rerun with PLANTRAIL_DEBUG=1", 70)
    sys.exit(code if isinstance(code, int) else 0)
