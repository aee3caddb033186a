"""Signed checkpoints: every plan's head (version and chain hash), signed with Ed25519.

Kept outside the database (a file an auditor can take away), a checkpoint is what detects the
attacks a keyed chain cannot: a truncated tail, a deleted plan, or a plan rewritten and
re-chained by someone holding the chain key (reliability note §2).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plantrail.domain.errors import InvalidInput
from plantrail.projections.store.files import open_output, private_folder

FORMAT = "plantrail-checkpoint/1"


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Checkpoint:
    body: dict[str, Any]
    signature: bytes

    def heads_by_plan(self) -> dict[str, tuple[int, str]]:
        return {h["plan_id"]: (int(h["version"]), h["chain_hash"]) for h in self.body["plans"]}

    def to_json(self) -> str:
        return json.dumps(
            {**self.body, "signature": base64.b64encode(self.signature).decode()}, indent=1
        )


def sign_checkpoint(heads: list[tuple[Any, int, str]], key: Ed25519PrivateKey) -> Checkpoint:
    body = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "key_id": key_id(key.public_key()),
        "plan_count": len(heads),
        "event_count": sum(version for _, version, _ in heads),
        "plans": [
            {"plan_id": str(plan), "version": version, "chain_hash": digest}
            for plan, version, digest in heads
        ],
    }
    return Checkpoint(body, key.sign(_canonical(body)))


def read_checkpoint(path: Path, public: Ed25519PublicKey) -> Checkpoint:
    """Load a checkpoint file and check its signature; a bad one is refused with a clear error."""
    try:
        data = json.loads(path.read_text())
        signature = base64.b64decode(data.pop("signature"))
    except (OSError, ValueError, KeyError, TypeError):
        raise InvalidInput.on(
            "checkpoint", f"{path} is not a readable plantrail checkpoint"
        ) from None
    if data.get("format") != FORMAT:
        raise InvalidInput.on("checkpoint", f"{path} is not a {FORMAT} file")
    try:
        public.verify(signature, _canonical(data))
    except InvalidSignature:
        raise InvalidInput.on(
            "checkpoint", f"{path} has an invalid signature (altered, or signed with another key)"
        ) from None
    return Checkpoint(data, signature)


def latest_checkpoint(directory: Path) -> Path | None:
    files = sorted(directory.glob("checkpoint-*.json")) if directory.exists() else []
    return files[-1] if files else None


def write_checkpoint(checkpoint: Checkpoint, directory: Path) -> Path:
    private_folder(directory, field="checkpoints")
    stamp = checkpoint.body["created_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
    path = directory / f"checkpoint-{stamp}.json"
    counter = 1
    while path.exists():
        counter += 1
        path = directory / f"checkpoint-{stamp}-{counter}.json"
    with open_output(path, force=False, field="checkpoints") as handle:  # 0600
        handle.write(checkpoint.to_json().encode())
    return path
