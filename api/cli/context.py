"""Open the store and keys the way every command does, from ``--db`` and ``--keys``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from plantrail.domain.errors import InvalidInput
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import open_service
from plantrail.projections.integrity.keys import default_key_dir
from plantrail.projections.store.engine import DEFAULT_URL, create_store_engine, normalise_url
from plantrail.projections.store.failures import translated


def resolve_keys(keys: Path | None) -> Path:
    return keys or default_key_dir()


def service_for(db: str | None, keys: Path | None, *, create: bool = False) -> PlanService:
    """The store at ``db``; only the commands that make one (``init``, ``demo``, ``import``)
    pass ``create``: any other command on a path that holds no store says so and creates
    nothing (a mistyped ``--db``, or none at all in the wrong folder, must not leave an empty
    store behind and report "no plans")."""
    url = db or DEFAULT_URL
    if not create:
        require_store(url)
    return open_service(url, resolve_keys(keys))


def require_store(url: str) -> None:
    """Refuse, as one line, a URL that names no plantrail store."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.is_file():
            raise InvalidInput.on("database", f"there is no plantrail store at {path}{_HOW}")
        return
    engine = create_store_engine(url)
    try:
        with translated("open the store"), engine.connect() as conn:
            found = inspect(conn).has_table("plantrail_events")
    finally:
        engine.dispose()
    if not found:
        where = parsed.render_as_string(hide_password=True)
        raise InvalidInput.on("database", f"there is no plantrail store in {where}{_HOW}")


_HOW = (
    " (nothing was created): name one with --db or PLANTRAIL_DATABASE_URL, "
    "or create one with 'plantrail init' or 'plantrail demo'"
)
