"""``plantrail migrate``: upgrade a store's schema to ``HEAD``, one step per transaction.

Alembic runs the steps in ``versions/`` on the app's own engine (``create_store_engine``: WAL,
``synchronous=FULL`` and the busy timeout on SQLite; the statement bounds on PostgreSQL). It is
configured here, in code; no ``alembic.ini`` is read. A store that records no version (made
before versions were recorded) is upgraded from the first step: every step checks what is
there before it acts, so it adapts a store made at any commit since the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

from plantrail.domain.errors import StorageError
from plantrail.projections.migrations import (
    HEAD,
    REVISIONS,
    VERSION_TABLE,
    StoreSchema,
    mismatch,
    read_schema,
)
from plantrail.projections.store.engine import WRITE
from plantrail.projections.store.failures import translated

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Step:
    """One migration step: its revision and the first line of its docstring."""

    revision: str
    title: str


@dataclass
class Migration:
    """What ``migrate`` found and did."""

    before: StoreSchema
    pending: list[Step] = field(default_factory=list)
    applied: list[Step] = field(default_factory=list)

    @property
    def after(self) -> str | None:
        return self.applied[-1].revision if self.applied else self.before.version


def config(target_metadata: MetaData | None = None) -> Config:
    """Alembic's configuration, in code: the steps shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("version_table", VERSION_TABLE)
    cfg.attributes["target_metadata"] = target_metadata
    return cfg


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def steps_after(version: str | None) -> list[Step]:
    """The steps from ``version`` (exclusive; None: from the first) up to ``HEAD``, in order."""
    directory = scripts()
    if version is not None and version not in REVISIONS:
        raise StorageError(f"the store is at schema {version}, which this plantrail does not know")
    chain = list(directory.iterate_revisions(HEAD, version))
    chain.reverse()
    return [Step(s.revision, (s.doc or "").strip().splitlines()[0]) for s in chain]


def migrate(engine: Engine, *, dry_run: bool = False) -> Migration:
    """Upgrade the store on ``engine`` to ``HEAD`` (or, with ``dry_run``, only say how)."""
    with translated("read the schema version"), engine.connect() as conn:
        before = read_schema(conn)
    if before.empty:
        raise StorageError(
            "there is no plantrail store here: create one with `plantrail init` "
            "(a new store is made at the current schema)"
        )
    if before.version is not None and before.version not in REVISIONS:
        raise mismatch(before)
    pending = steps_after(before.version)
    result = Migration(before, pending)
    if dry_run or not pending:
        return result
    from alembic import command

    cfg = config()
    try:
        with translated("upgrade the schema"), engine.connect().execution_options(**WRITE) as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, HEAD)
    except Exception as error:  # a database error (translated) or a step's own
        now = current_version(engine)
        result.applied = _done(pending, now)
        failed = pending[len(result.applied)]
        reason = getattr(error, "message", None) or (str(error).strip().splitlines() or [""])[0]
        raise StorageError(
            f"step {failed.revision} ({failed.title}) failed and was rolled back, the store is "
            f"at schema {now or before.described}: {reason or type(error).__name__}"
        ) from error
    result.applied = _done(pending, current_version(engine))
    return result


def current_version(engine: Engine) -> str | None:
    with translated("read the schema version"), engine.connect() as conn:
        return MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()


def _done(pending: list[Step], now: str | None) -> list[Step]:
    """The steps of ``pending`` up to and including ``now``."""
    revisions = [step.revision for step in pending]
    return pending[: revisions.index(now) + 1] if now in revisions else []
