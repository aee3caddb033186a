"""The ``plantrail`` Typer app itself. Each command module adds its commands to it, and
``main`` imports them all and runs it; keeping the app apart from ``main`` keeps that
registration free of an import cycle."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="plantrail",
    help="plantrail: the immutable, verifiable history of psychotherapy treatment plans.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
