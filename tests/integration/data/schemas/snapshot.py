"""Write the DDL of the schema an earlier commit created, as ``<name>.json`` beside this file.

Run from the repository root with the project's virtual environment:

    python tests/integration/data/schemas/snapshot.py <commit> <name>

It extracts ``domain/``, ``projections/`` and ``api/`` of ``<commit>`` into a temporary folder
laid out as the ``plantrail`` namespace, imports every module of ``plantrail.projections``
there (so every table the old code could create is defined), and records each ``MetaData``'s
``create_all`` for SQLite and for PostgreSQL through a mock engine: the tables, indexes and
the append-only triggers, exactly as that code would have created them on an empty store. The
snapshots are made once and kept, so the migration tests do not depend on old code importing
under today's libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = r"""
import importlib, json, pkgutil, sys
from sqlalchemy import MetaData, create_mock_engine
import plantrail.projections as root
seen = []
for info in pkgutil.walk_packages(root.__path__, "plantrail.projections."):
    if ".migrations" in info.name:  # Alembic's env.py runs only under Alembic
        continue
    module = importlib.import_module(info.name)
    for value in vars(module).values():
        if isinstance(value, MetaData) and not any(value is m for m in seen):
            seen.append(value)
out = {}
for dialect, url in (("sqlite", "sqlite://"), ("postgresql", "postgresql+psycopg://")):
    statements = []
    def executor(sql, *args, **kwargs):
        statements.append(str(sql.compile(dialect=engine.dialect)).strip())
    engine = create_mock_engine(url, executor)
    for metadata in seen:
        metadata.create_all(engine, checkfirst=False)
    out[dialect] = statements
print(json.dumps(out))
"""


def snapshot(commit: str, name: str) -> Path:
    full = subprocess.run(
        ["git", "rev-parse", commit], check=True, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "plantrail"
        root.mkdir()
        archive = subprocess.run(
            ["git", "archive", full, "domain", "projections", "api"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
        done = subprocess.run(
            [sys.executable, "-c", _CHILD],
            check=True,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": tmp, "PATH": "/usr/bin:/bin"},
        )
    ddl = json.loads(done.stdout)
    target = HERE / f"{name}.json"
    target.write_text(json.dumps({"commit": full, **ddl}, indent=1) + "\n")
    return target


if __name__ == "__main__":
    print(snapshot(sys.argv[1], sys.argv[2]))
