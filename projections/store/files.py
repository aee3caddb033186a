"""Files that hold health data: the SQLite database, audit packets, exports and checkpoints.

They are created readable and writable by their owner only (0600; folders 0700), whatever the
umask: under the usual 022 they would be world-readable. An output path that is a symbolic link
is refused (whoever can plant one could send a packet anywhere the user can write), and an
existing file is overwritten only when the caller says so (``--force``). SQLite creates the
``-wal`` and ``-shm`` files with the database file's own mode, so creating that file 0600 keeps
all three private.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import BinaryIO

from plantrail.domain.errors import InvalidInput

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def check_output(path: Path, *, force: bool, field: str = "out") -> None:
    """Refuse ``path`` as an output now, before any work: a symbolic link, or an existing file
    without ``force``. ``open_output`` checks the same again as it opens."""
    if path.is_symlink():
        raise InvalidInput.on(field, f"{path} is a symbolic link; give the file's real path")
    if path.exists() and not force:
        raise InvalidInput.on(field, f"{path} already exists; add --force to overwrite it")


def open_output(path: Path, *, force: bool, field: str = "out") -> BinaryIO:
    """``path`` opened for writing, created 0600; never through a symbolic link, and an
    existing file only with ``force`` (it is truncated and made 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if force else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, PRIVATE_FILE)
    except FileExistsError:
        raise InvalidInput.on(
            field, f"{path} already exists; add --force to overwrite it"
        ) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InvalidInput.on(
                field, f"{path} is a symbolic link; give the file's real path"
            ) from None
        raise
    os.fchmod(descriptor, PRIVATE_FILE)  # an overwritten file would keep its old mode
    return os.fdopen(descriptor, "wb")


def private_folder(path: Path, *, field: str = "out") -> None:
    """Create the folder ``path`` (0700) if missing; a symbolic link is refused."""
    if path.is_symlink():
        raise InvalidInput.on(field, f"{path} is a symbolic link; give the folder's real path")
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 unless it exists (a new SQLite database)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(descriptor)
