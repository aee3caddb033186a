"""Options shared by every ``plantrail`` command, so they are spelled the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Database = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="PLANTRAIL_DATABASE_URL",
        help="Database URL: sqlite:///./plantrail.db (default) or postgresql+psycopg://…",
        show_default=False,
    ),
]
KeyDir = Annotated[
    Path | None,
    typer.Option(
        "--keys",
        envvar="PLANTRAIL_KEY_DIR",
        help="Key directory (default ~/.plantrail/keys). Never inside the database.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
BaseUrl = Annotated[
    str,
    typer.Option(
        "--base-url",
        envvar="PLANTRAIL_BASE_URL",
        help="The server's address as its users reach it, for the links a command prints",
    ),
]
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
"""Where ``plantrail serve`` listens by default."""
Paper = Annotated[str, typer.Option("--paper", help="letter or a4")]
RuleProfileFile = Annotated[
    Path | None,
    typer.Option("--profile", help="Rule profile (JSON) with the practice's thresholds."),
]
Force = Annotated[bool, typer.Option("--force", help="Overwrite the output file if it exists")]
