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
