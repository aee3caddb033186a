"""Fixtures: every store-touching test runs on SQLite, and on PostgreSQL too when
PLANTRAIL_TEST_DATABASE_URL is set (as .ci/run does). Each test gets its own SQLite file or
PostgreSQL schema; the PostgreSQL database is created for the session and dropped after it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from plantrail.domain.service import PlanService
from plantrail.projections.integrity.keys import create_keys
from tests.support.clock import FakeClock
from tests.support.stores import (
    PG_ENV,
    postgres_database,
    postgres_schema_url,
    running_service,
    sqlite_url,
)

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(PG_ENV) else [])


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    if not os.environ.get(PG_ENV):
        yield None
        return
    with postgres_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None) -> str:
    """A fresh, empty store: an SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    assert pg_database is not None
    return postgres_schema_url(pg_database)


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    create_keys(directory)
    return directory


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(store_url: str, key_dir: Path, clock: FakeClock) -> Iterator[PlanService]:
    with running_service(store_url, key_dir, clock=clock) as svc:
        yield svc
