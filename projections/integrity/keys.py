"""The keys of tamper evidence, kept in a key directory and never in the database (ADR 0004).

* ``chain.key``: 32 random bytes (hex) for the HMAC chain over every plan's events;
* ``checkpoint-ed25519.pem`` / ``checkpoint-ed25519.pub``: signs and checks checkpoints.

An auditor can check a checkpoint's signature with the public key alone. ``create_keys`` never
overwrites: replacing the chain key would make every existing chain fail verification.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plantrail.domain.errors import InvalidInput, StorageError

CHAIN_KEY = "chain.key"
SIGNING_KEY = "checkpoint-ed25519.pem"
VERIFY_KEY = "checkpoint-ed25519.pub"


def default_key_dir() -> Path:
    configured = os.environ.get("PLANTRAIL_KEY_DIR")
    return Path(configured) if configured else Path.home() / ".plantrail" / "keys"


@dataclass(frozen=True)
class Keys:
    chain_key: bytes
    signing_key: Ed25519PrivateKey | None
    verify_key: Ed25519PublicKey


def create_keys(directory: Path) -> bool:
    """Create any missing key in ``directory``; True when something was created."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    created = False
    chain = directory / CHAIN_KEY
    if not chain.exists():
        _write_private(chain, secrets.token_bytes(32).hex().encode())
        created = True
    signing = directory / SIGNING_KEY
    if not signing.exists():
        private = Ed25519PrivateKey.generate()
        _write_private(
            signing,
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        (directory / VERIFY_KEY).write_bytes(
            private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        created = True
    return created


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def load_chain_key(directory: Path) -> bytes | None:
    """The chain key, or None when the directory has none yet (reads need no key)."""
    path = directory / CHAIN_KEY
    if not path.exists():
        return None
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise StorageError(f"{path} is not a plantrail chain key") from None
    if len(key) != 32:
        raise StorageError(f"{path} is not a plantrail chain key")
    return key


def load_keys(directory: Path) -> Keys:
    """All keys; the private signing key may be absent (an auditor's copy)."""
    chain = load_chain_key(directory)
    if chain is None:
        raise InvalidInput.on("keys", f"no keys in {directory}: run 'plantrail init' first")
    signing_path = directory / SIGNING_KEY
    signing = None
    if signing_path.exists():
        loaded = serialization.load_pem_private_key(signing_path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise StorageError(f"{signing_path} is not an Ed25519 key")
        signing = loaded
    try:
        public = serialization.load_pem_public_key((directory / VERIFY_KEY).read_bytes())
    except (OSError, ValueError):
        raise InvalidInput.on(
            "keys", f"{directory / VERIFY_KEY} is missing or unreadable: restore it from backup"
        ) from None
    if not isinstance(public, Ed25519PublicKey):
        raise StorageError(f"{directory / VERIFY_KEY} is not an Ed25519 public key")
    return Keys(chain, signing, public)
