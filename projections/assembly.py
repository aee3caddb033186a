"""eventsourcing's infrastructure factory for plantrail, and ``open_service``, the one place
that assembles a configured ``PlanService`` (engine, keys, tables, inline read models)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.utils import get_topic

from plantrail.domain.errors import StorageError
from plantrail.domain.service import PlanService, utc_now
from plantrail.projections.integrity.keys import default_key_dir, load_chain_key
from plantrail.projections.migrations import check_schema
from plantrail.projections.store.engine import DEFAULT_URL, check_durability, create_store_engine
from plantrail.projections.store.recorder import SqlPlanRecorder

DATABASE_URL = "PLANTRAIL_DATABASE_URL"
KEY_DIR = "PLANTRAIL_KEY_DIR"


class PlanStoreFactory(InfrastructureFactory[TrackingRecorder]):
    """Builds the SQL plan recorder from ``PLANTRAIL_DATABASE_URL`` and ``PLANTRAIL_KEY_DIR``."""

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        return self.application_recorder()

    def application_recorder(self) -> ApplicationRecorder:
        url = self.env.get(DATABASE_URL) or DEFAULT_URL
        key_dir = Path(self.env.get(KEY_DIR) or default_key_dir())
        return SqlPlanRecorder(create_store_engine(url), load_chain_key(key_dir))

    def tracking_recorder(self, tracking_recorder_class: Any = None) -> TrackingRecorder:
        raise StorageError("plantrail keeps read models inline; there is no tracking recorder")

    def process_recorder(self) -> ProcessRecorder:
        raise StorageError("plantrail has no process applications")


def open_service(
    url: str | None = None,
    key_dir: Path | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    late_entry_days: int = 7,
    snapshot_interval: int = 50,
) -> PlanService:
    """A ready ``PlanService`` on ``url`` (default ``PLANTRAIL_DATABASE_URL`` or ./plantrail.db)
    with every inline read model attached: a new store is created at the current schema, and a
    store at any other schema is refused (``SchemaMismatch``: run ``plantrail migrate``)."""
    import os

    from plantrail.projections.readmodels import attach_read_models

    env = {
        "PERSISTENCE_MODULE": get_topic(PlanStoreFactory),
        DATABASE_URL: url or os.environ.get(DATABASE_URL) or DEFAULT_URL,
        KEY_DIR: str(key_dir or default_key_dir()),
    }
    service = PlanService(
        env,
        clock=clock,
        late_entry_days=late_entry_days,
        snapshot_interval=snapshot_interval,
    )
    recorder = recorder_of(service)
    attach_read_models(recorder)
    try:
        # One small query on a store in use; an empty store is created at the current schema;
        # any other is refused with one line (ADR 0019).
        check_schema(recorder.engine, recorder.create_tables)
        check_durability(recorder.engine)
    except BaseException:
        service.close()
        raise
    return service


def recorder_of(service: PlanService) -> SqlPlanRecorder:
    recorder = service.recorder
    if not isinstance(recorder, SqlPlanRecorder):
        raise StorageError("the plan service is not on an SQL store")
    return recorder
