"""The last signed checkpoint, as the verify page reports it: found in the ``checkpoints``
folder next to the server's key folder (where ``plantrail checkpoint`` writes), and checked
against the practice's public key before anything in it is believed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plantrail.domain.errors import InvalidInput
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import KEY_DIR
from plantrail.projections.integrity.checkpoint import (
    Checkpoint,
    latest_checkpoint,
    read_checkpoint,
)
from plantrail.projections.integrity.keys import load_keys


@dataclass(frozen=True)
class LastCheckpoint:
    folder: Path | None
    path: Path | None = None
    signed: Checkpoint | None = None
    problem: str | None = None
    """Why the newest file could not be used (unreadable, bad signature)."""


def last_checkpoint(service: PlanService) -> LastCheckpoint:
    key_dir = service.env.get(KEY_DIR)
    if not key_dir:
        return LastCheckpoint(None)
    folder = Path(key_dir).resolve().parent / "checkpoints"
    path = latest_checkpoint(folder)
    if path is None:
        return LastCheckpoint(folder)
    try:
        signed = read_checkpoint(path, load_keys(Path(key_dir)).verify_key)
    except InvalidInput as error:
        return LastCheckpoint(folder, path, problem=str(error))
    return LastCheckpoint(folder, path, signed)
