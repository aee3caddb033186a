"""The keyed hash chain over stored events (tamper evidence, ADR 0004).

``h_v = HMAC-SHA-256(key, h_{v-1} || plan id (16 bytes) || version || len‖topic || len‖state)``
with ``h_0`` = 32 zero bytes. The hash covers the *exact stored bytes* of each event, so no JSON
canonicalisation can disagree with what is on disk; length prefixes make the encoding
unambiguous. Editing, flipping a bit, deleting, swapping or inserting an event breaks the chain
at that version; truncation and whole-plan re-chaining need the external checkpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from uuid import UUID

GENESIS = bytes(32)


def chain_hash(
    key: bytes, previous: bytes, plan_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The chain hash of one stored event given the hash of the event before it."""
    topic_bytes = topic.encode()
    message = b"".join(
        (
            previous,
            plan_id.bytes,
            struct.pack(">Q", version),
            struct.pack(">I", len(topic_bytes)),
            topic_bytes,
            struct.pack(">Q", len(state)),
            state,
        )
    )
    return hmac.new(key, message, hashlib.sha256).digest()
