"""What every figure shares: fresh stores per backend, raw driver connections, statistics and the
record each figure produces.

Method (as in ``../shared/notes/perf-baselines.md``): each figure and its baseline are measured
back to back in every round; a figure's value is the median of its rounds (with min and max),
and its ratio is the median of the per-round ratios, so that noise from other processes on the
shared machine hits both sides of a ratio alike.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plantrail.domain.service import PlanService, utc_now
from plantrail.projections.assembly import open_service, recorder_of
from plantrail.projections.integrity.keys import create_keys
from plantrail.projections.store.recorder import SqlPlanRecorder

PG_ENV = "PLANTRAIL_BENCH_DATABASE_URL"
PG_FALLBACK_ENV = "PLANTRAIL_TEST_DATABASE_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def log(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


# --------------------------------------------------------------------------------- stores
class Stores:
    """Fresh, empty stores on one backend: SQLite files in a work folder, or PostgreSQL schemas
    inside a database created for this run and dropped after it."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self.key_dir = workdir / "keys"
        self._count = 0
        self._database_url: str | None = None
        self._admin: Any = None
        self._database: str | None = None

    def __enter__(self) -> Stores:
        self.workdir.mkdir(parents=True, exist_ok=True)
        create_keys(self.key_dir)
        if self.backend == "postgresql":
            base = make_url(
                os.environ.get(PG_ENV) or os.environ.get(PG_FALLBACK_ENV) or PG_DEFAULT
            ).set(drivername="postgresql+psycopg")
            self._database = f"plantrail_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            self._admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self._database}"'))
            self._database_url = base.set(database=self._database).render_as_string(
                hide_password=False
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._admin is not None:
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)'))
            self._admin.dispose()

    def new_url(self, name: str = "store") -> str:
        """The URL of a new, empty store."""
        self._count += 1
        label = f"{name}_{self._count}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.workdir / (label + '.db')}"
        assert self._database_url is not None
        engine = create_engine(self._database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{label}"'))
        engine.dispose()
        url = make_url(self._database_url).update_query_dict({"options": f"-csearch_path={label}"})
        return url.render_as_string(hide_password=False)

    def open(
        self,
        url: str,
        clock: Callable[[], datetime] = utc_now,
        snapshot_interval: int = 50,
    ) -> PlanService:
        return open_service(url, self.key_dir, clock=clock, snapshot_interval=snapshot_interval)

    def raw_connect(self, url: str) -> Any:
        """A bare DB-API connection to the store at ``url``, with the engine's durability
        settings (SQLite: WAL, synchronous=FULL, autocommit mode; PostgreSQL: defaults)."""
        return raw_connect(url)


def raw_connect(url: str, *, synchronous: str = "FULL") -> Any:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database or "", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn
    import psycopg

    options = parsed.query.get("options")
    return psycopg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname=parsed.database,
        options=options if isinstance(options, str) else None,
    )


def close_service(service: PlanService) -> None:
    with suppress(Exception):
        service.close()
    recorder_of(service).close()


def recorder(service: PlanService) -> SqlPlanRecorder:
    return recorder_of(service)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@contextmanager
def stores(backend: str, workdir: Path) -> Iterator[Stores]:
    with Stores(backend, workdir) as made:
        yield made


# ----------------------------------------------------------------------------- statistics
def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0–100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(values) if values else None,
        "min": min(values) if values else None,
        "max": max(values) if values else None,
        "rounds": values,
    }


@dataclass
class Figure:
    """One line of the report: a figure, its baseline and their per-round ratio."""

    figure: str
    title: str
    backend: str
    unit: str
    values: list[float]
    baseline: str = ""
    baseline_unit: str = ""
    baseline_values: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    ratio_label: str = ""
    goal: str = ""
    met: bool | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline_values) if self.baseline_values else None

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["value"] = summary(self.values)
        body["baseline_value"] = summary(self.baseline_values)
        body["ratio"] = summary(self.ratios)
        del body["values"], body["baseline_values"], body["ratios"]
        return body


def unavailable(figure: str, title: str, backend: str, why: str) -> Figure:
    """A figure that could not be measured in this tree (what it waits for is in ``notes``)."""
    return Figure(figure, title, backend, "", [], notes=f"not measured: {why}")
