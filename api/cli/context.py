"""Open the store and keys the way every command does, from ``--db`` and ``--keys``."""

from __future__ import annotations

from pathlib import Path

from plantrail.domain.service import PlanService
from plantrail.projections.assembly import open_service
from plantrail.projections.integrity.keys import default_key_dir
from plantrail.projections.store.engine import DEFAULT_URL


def resolve_keys(keys: Path | None) -> Path:
    return keys or default_key_dir()


def service_for(db: str | None, keys: Path | None) -> PlanService:
    return open_service(db or DEFAULT_URL, resolve_keys(keys))
