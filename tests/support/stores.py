"""Stores for tests: database URLs (SQLite, a PostgreSQL database and schemas) and a running
``PlanService`` on one."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from plantrail.domain.service import PlanService
from plantrail.projections.assembly import open_service

PG_ENV = "PLANTRAIL_TEST_DATABASE_URL"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test session, dropped afterwards."""
    base = make_url(os.environ[PG_ENV])
    name = f"plantrail_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_schema_url(database_url: str) -> str:
    """A new schema inside the session database; the URL puts it first on the search path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'plantrail.db'}"


@contextmanager
def running_service(store_url: str, key_dir: Path, **options: Any) -> Iterator[PlanService]:
    """A ``PlanService`` on ``store_url``, closed with its connections afterwards."""
    service = open_service(store_url, key_dir, **options)
    try:
        yield service
    finally:
        service.close()
        service.recorder.close()  # type: ignore[attr-defined]


def require_pg_tools(store_url: str) -> None:
    """Skip a PostgreSQL backup test when ``pg_dump`` or ``pg_restore`` is not installed, with
    the reason; fail instead under ``PLANTRAIL_REQUIRE_PG_TOOLS=1`` (``.ci/run`` installs
    them), so that CI never passes by skipping."""
    import shutil

    import pytest

    if make_url(store_url).get_backend_name() == "sqlite":
        return
    missing = [name for name in ("pg_dump", "pg_restore") if shutil.which(name) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed (apt-get install postgresql-client)"
    if os.environ.get("PLANTRAIL_REQUIRE_PG_TOOLS"):
        pytest.fail(reason)
    pytest.skip(reason)


OLD_SCHEMAS = Path(__file__).resolve().parents[1] / "integration" / "data" / "schemas"
"""DDL snapshots of the schemas earlier commits created (``snapshot.py`` there, ADR 0019)."""


def build_old_schema(engine: Engine, name: str) -> None:
    """Create on ``engine``'s empty store the tables that an earlier plantrail created:
    ``name`` is a snapshot in ``OLD_SCHEMAS`` (``before-break-glass``, …)."""
    snapshot = json.loads((OLD_SCHEMAS / f"{name}.json").read_text())
    with engine.begin() as conn:
        for statement in snapshot[engine.dialect.name]:
            conn.exec_driver_sql(statement)
