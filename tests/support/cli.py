"""The ``plantrail`` command line as a user runs it: the console script in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def plantrail(
    *args: str, db: str, keys: Path, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``plantrail *args`` on the store ``db`` with the keys in ``keys`` (``stdin`` as its
    input); unless ``check`` is false, a non-zero exit fails the test with what it printed."""
    env = {
        **os.environ,
        "PLANTRAIL_DATABASE_URL": db,
        "PLANTRAIL_KEY_DIR": str(keys),
        "COLUMNS": "200",
    }
    env.pop("PLANTRAIL_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "plantrail.api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"plantrail {' '.join(args)} failed: {result.stdout}\n{result.stderr}")
    return result
