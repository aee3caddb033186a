"""The cover's verification block: the last signed checkpoint that covers the packet's plan.

Checkpoints are files kept outside the database (``plantrail checkpoint``), in the
``checkpoints`` folder next to the key folder. The newest one signed by the generation time
that names the plan, at a version the packet includes, is the one that covers it; it is
believed only after its Ed25519 signature checks against the practice's public key, and it
*verifies* when the plan's stored chain hash at its version is the one it signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from plantrail.domain.errors import InvalidInput
from plantrail.domain.service import PlanService
from plantrail.projections.assembly import KEY_DIR
from plantrail.projections.integrity.checkpoint import read_checkpoint
from plantrail.projections.integrity.keys import load_keys

__all__ = ["checkpoint_block"]


def checkpoint_block(
    service: PlanService,
    plan_id: UUID,
    version: int,
    chain: Mapping[int, str],
    generated_at: datetime,
) -> dict[str, Any] | None:
    """The block for the cover, or None when there is no checkpoint folder or file to use."""
    key_dir = service.env.get(KEY_DIR)
    if not key_dir:
        return None
    folder = Path(key_dir).resolve().parent / "checkpoints"
    files = sorted(folder.glob("checkpoint-*.json"), reverse=True) if folder.exists() else []
    if not files:
        return None
    public = load_keys(Path(key_dir)).verify_key
    for path in files:
        try:
            signed = read_checkpoint(path, public)
        except InvalidInput as error:
            return {"path": str(path), "problem": str(error)}
        created = datetime.fromisoformat(signed.body["created_at"])
        head = signed.heads_by_plan().get(str(plan_id))
        if created > generated_at or head is None or head[0] > version:
            continue
        at, digest = head
        return {
            "path": str(path),
            "created_at": created.isoformat(),
            "key_id": signed.body.get("key_id"),
            "version": at,
            "chain_hash": digest,
            "verified": chain.get(at) == digest,
        }
    return None
