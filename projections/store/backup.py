"""Backup and restore of a whole store: a consistent copy taken while the server writes.

SQLite: the online backup API (``sqlite3.Connection.backup``), in steps of pages. The source
connection first opens a read transaction and keeps it for the whole copy, so every step reads
the same snapshot: in WAL mode writers go on committing (the source stays writable) and the copy
is the store as it was when the backup began, never a mix of two moments. Without that held
snapshot, a write between two steps would restart the copy, and under a steady load it would
never finish.

PostgreSQL: ``pg_dump`` (custom format, ``--no-owner``; one snapshot by design) and
``pg_restore`` (one transaction: a failed restore leaves the target as it was). Both are the
operator's PostgreSQL client tools, found on ``PATH``; this module never installs anything.

Every backup gets a ``<file>.sha256`` next to it (the format of ``sha256sum``), and a restore
refuses a file that no longer matches it: a flipped bit anywhere, even in a page or a block no
check reads, is caught before the target is touched. Verification of the copy's hash chains
is the caller's (``plantrail.projections.integrity`` sits above this package).

These functions take URLs and paths and return plain results; errors are ``InvalidInput``
(the operator's input: a path, a URL, a non-empty target) or ``StorageError`` (the copy
failed), each one readable line.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from plantrail.domain.errors import InvalidInput, StorageError
from plantrail.projections.store.engine import BUSY_TIMEOUT_MS, normalise_url
from plantrail.projections.store.files import PRIVATE_FILE, check_output, create_private_file
from plantrail.projections.store.schema import events

PAGES_PER_STEP = 1024
"""Pages copied per step of the SQLite backup API (4 MiB at the default page size)."""

Progress = Callable[[int, int], None]
"""``(done, total)`` pages of an SQLite copy."""
Step = Callable[[str], None]
"""What a PostgreSQL tool is doing now (``table plantrail_events``)."""


@dataclass(frozen=True)
class Copied:
    """A copy written: the backup file, or the restored store."""

    path: Path
    size: int
    seconds: float
    backend: str


def is_sqlite_url(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    return Path(make_url(normalise_url(url)).database or "")


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_checksum(path: Path) -> Path:
    """``<path>.sha256`` in the format ``sha256sum -c`` reads, created 0600."""
    target = checksum_path(path)
    target.unlink(missing_ok=True)
    create_private_file(target)
    target.write_text(f"{sha256_of(path)}  {path.name}\n")
    return target


def check_checksum(path: Path) -> bool:
    """Refuse ``path`` if it no longer matches its ``.sha256``; False when it has none."""
    recorded = checksum_path(path)
    if not recorded.is_file():
        return False
    expected = recorded.read_text().split()[:1]
    if not expected or expected[0].lower() != sha256_of(path):
        raise InvalidInput.on(
            "source",
            f"{path} does not match its checksum {recorded.name}: the backup was altered or "
            "damaged after it was written; nothing was restored",
        )
    return True


# ---------------------------------------------------------------------------------- SQLite


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection


def _copy_pages(source: Path, target: Path, progress: Progress | None) -> None:
    """Copy ``source`` into ``target`` with the online backup API, from one read snapshot."""
    src = _connect(source)
    dst = _connect(target)
    try:
        # Hold one read transaction for the whole copy (module docstring).
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()

        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        src.backup(dst, pages=PAGES_PER_STEP, progress=step, sleep=0)
        src.execute("COMMIT")
    except sqlite3.DatabaseError as error:
        raise StorageError(f"cannot copy {source}: {_first_line(error)}") from error
    finally:
        dst.close()
        src.close()


def backup_sqlite(url: str, dest: Path, *, force: bool, progress: Progress | None = None) -> Copied:
    """Copy the SQLite store at ``url`` into the new file ``dest`` while it stays writable.

    The copy is written to ``dest.partial`` and renamed when complete, so a failed or
    interrupted backup never leaves a file that looks whole."""
    source = sqlite_path(url)
    if not source.is_file():
        raise InvalidInput.on("database", f"there is no plantrail store at {source}")
    _check_dest(dest, force=force)
    started = time.monotonic()
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private_file(partial)
    try:
        _copy_pages(source, partial, progress)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    os.chmod(dest, PRIVATE_FILE)
    return Copied(dest, dest.stat().st_size, time.monotonic() - started, "sqlite")


def check_sqlite_backup(path: Path) -> None:
    """Refuse, as one line, a file that is not an intact SQLite plantrail store."""
    if not path.is_file():
        raise InvalidInput.on("source", f"{path} is not a file")
    try:
        connection = _connect(path)
        try:
            rows = connection.execute("PRAGMA quick_check").fetchall()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise InvalidInput.on(
            "source", f"{path} is not an intact SQLite backup ({_first_line(error)})"
        ) from error
    if [tuple(row) for row in rows] != [("ok",)]:
        raise InvalidInput.on(
            "source", f"{path} is damaged (SQLite quick_check: {rows[0][0]}); nothing was restored"
        )
    if events.name not in tables:
        raise InvalidInput.on("source", f"{path} is an SQLite file but not a plantrail store")


def sqlite_event_count(path: Path) -> int | None:
    """Events in the SQLite store at ``path``; None when there is no file or no store in it,
    -1 when the file is something else than a database."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        connection = _connect(path)
        try:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (events.name,)
            ).fetchone()
            if not found:
                other = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                return -1 if other else None
            return int(connection.execute(f"SELECT count(*) FROM {events.name}").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return -1


def restore_sqlite(
    source: Path, url: str, *, force: bool, progress: Progress | None = None
) -> Copied:
    """Copy the backup ``source`` into the SQLite store at ``url`` (backup API, page by page).

    Refuses a target that holds events (or is not a plantrail store) unless ``force``."""
    check_checksum(source)
    check_sqlite_backup(source)
    target = sqlite_path(url)
    if not target.parent.is_dir():
        raise InvalidInput.on("database", f"folder {target.parent} does not exist")
    if target.resolve() == source.resolve():
        raise InvalidInput.on("database", f"{source} is the backup itself; restore elsewhere")
    count = sqlite_event_count(target)
    _refuse_non_empty(count, str(target), force=force)
    started = time.monotonic()
    if count == -1:  # not a database (--force): the backup API cannot write into it
        for leftover in (target, *(target.with_name(target.name + x) for x in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    create_private_file(target)
    _copy_pages(source, target, progress)
    return Copied(target, target.stat().st_size, time.monotonic() - started, "sqlite")


# ------------------------------------------------------------------------------ PostgreSQL


def tool(name: str) -> str:
    """The path of a PostgreSQL client tool, or one line saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise InvalidInput.on(
            "database",
            f"{name} is not installed (PostgreSQL backups use it): install the PostgreSQL "
            "client tools, e.g. 'apt-get install postgresql-client', of the server's major "
            "version or newer",
        )
    return found


def _libpq(url: str) -> tuple[str, dict[str, str], str | None]:
    """A libpq URI without the password, the environment that carries it, and the schema a
    ``-csearch_path=`` option names (a store kept in one schema)."""
    parsed: URL = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    options = parsed.query.get("options")
    option = options if isinstance(options, str) else (options[0] if options else "")
    match = re.search(r"-csearch_path=([A-Za-z_][A-Za-z0-9_]*)", option)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env, match.group(1) if match else None


_TABLE = re.compile(r'(?:dumping contents of|processing data for) table "?([^"\s]+)"?')


def _run(command: list[str], env: dict[str, str], what: str, step: Step | None) -> None:
    """Run a PostgreSQL tool, reporting each table it reaches; its last error line on failure."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    lines: list[str] = []
    for line in process.stderr:
        line = line.strip()
        lines.append(line)
        found = _TABLE.search(line)
        if found and step is not None:
            step(f"table {found.group(1).split('.')[-1]}")
    if process.wait() != 0:
        errors = [line for line in lines if "error" in line.lower()] or lines or ["no output"]
        raise StorageError(f"{what} failed: {errors[0]}")


def backup_postgresql(url: str, dest: Path, *, force: bool, step: Step | None = None) -> Copied:
    """``pg_dump`` of the store at ``url`` (custom format, no owner) into ``dest``: one
    snapshot, so every event committed before it started is in it and no plan is torn."""
    pg_dump = tool("pg_dump")
    _check_dest(dest, force=force)
    uri, env, schema = _libpq(url)
    started = time.monotonic()
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private_file(partial)
    command = [pg_dump, "--format=custom", "--no-owner", "--verbose", f"--file={partial}"]
    if schema:
        command.append(f"--schema={schema}")
    try:
        _run([*command, f"--dbname={uri}"], env, "pg_dump", step)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    os.chmod(dest, PRIVATE_FILE)
    return Copied(dest, dest.stat().st_size, time.monotonic() - started, "postgresql")


def check_postgresql_backup(path: Path) -> None:
    """Refuse a file ``pg_restore`` cannot read as an archive."""
    if not path.is_file():
        raise InvalidInput.on("source", f"{path} is not a file")
    result = subprocess.run(
        [tool("pg_restore"), "--list", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or "plantrail_events" not in result.stdout:
        why = (result.stderr.strip().splitlines() or ["it lists no plantrail tables"])[0]
        raise InvalidInput.on(
            "source", f"{path} is not an intact pg_dump backup of a plantrail store ({why})"
        )


def postgresql_event_count(url: str) -> int | None:
    """Events in the PostgreSQL store at ``url``; None when it has no plantrail tables."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(events.name):
                return None
            return int(connection.execute(text(f"SELECT count(*) FROM {events.name}")).scalar_one())
    except Exception as error:
        raise StorageError(f"cannot open {where(url)}: {_first_line(error)}") from error
    finally:
        engine.dispose()


def restore_postgresql(source: Path, url: str, *, force: bool, step: Step | None = None) -> Copied:
    """``pg_restore`` of ``source`` into the database at ``url``, in one transaction.

    Refuses a target that holds events unless ``force``; with it, the store's tables are
    dropped and restored (``--clean``)."""
    check_checksum(source)
    check_postgresql_backup(source)
    count = postgresql_event_count(url)
    _refuse_non_empty(count, where(url), force=force)
    uri, env, _schema = _libpq(url)
    started = time.monotonic()
    command = [
        tool("pg_restore"),
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--verbose",
        # whatever of the store is there (an empty store, its schema, or with --force a
        # full one) is dropped and restored; on an empty database these drop nothing
        "--clean",
        "--if-exists",
        f"--dbname={uri}",
    ]
    _run([*command, str(source)], env, "pg_restore", step)
    return Copied(source, source.stat().st_size, time.monotonic() - started, "postgresql")


@contextmanager
def scratch_restore(source: Path, url: str, step: Step | None = None) -> Iterator[str]:
    """A pg_dump archive restored into a new, temporary database on the server of ``url``
    (the role needs CREATEDB), so that it can be opened as a store and verified; dropped
    afterwards. Yields the store URL of the copy."""
    parsed = make_url(normalise_url(url))
    name = f"plantrail_backup_check_{uuid.uuid4().hex[:12]}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except Exception as error:
            raise StorageError(
                f"{source} was written but cannot be verified: no scratch database to restore "
                f"it into ({_first_line(error)}); the role needs CREATEDB"
            ) from error
        copy = parsed.set(database=name).render_as_string(hide_password=False)
        try:
            restore_postgresql(source, copy, force=False, step=step)
            yield copy
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


# ------------------------------------------------------------------------------------ both


def backup(
    url: str,
    dest: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    step: Step | None = None,
) -> Copied:
    if is_sqlite_url(url):
        return backup_sqlite(url, dest, force=force, progress=progress)
    return backup_postgresql(url, dest, force=force, step=step)


def restore(
    source: Path,
    url: str,
    *,
    force: bool = False,
    progress: Progress | None = None,
    step: Step | None = None,
) -> Copied:
    if not source.is_file():
        raise InvalidInput.on("source", f"{source} is not a file")
    if is_sqlite_url(url):
        return restore_sqlite(source, url, force=force, progress=progress)
    return restore_postgresql(source, url, force=force, step=step)


def _check_dest(dest: Path, *, force: bool) -> None:
    if not dest.parent.is_dir():
        raise InvalidInput.on("out", f"folder {dest.parent} does not exist")
    check_output(dest, force=force)


def _refuse_non_empty(count: int | None, where: str, *, force: bool) -> None:
    if force or count is None or count == 0:
        return
    if count < 0:
        raise InvalidInput.on(
            "database",
            f"{where} holds something other than a plantrail store; add --force to overwrite it",
        )
    raise InvalidInput.on(
        "database",
        f"{where} is not empty ({count} events); add --force to replace it with the backup",
    )


def where(url: str) -> str:
    """The URL as it may be shown: without its password."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def _first_line(error: BaseException) -> str:
    message = str(getattr(error, "orig", None) or error).strip()
    return message.splitlines()[0] if message else type(error).__name__


__all__ = [
    "Copied",
    "backup",
    "checksum_path",
    "restore",
    "scratch_restore",
    "write_checksum",
]
