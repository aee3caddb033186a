"""Baseline: the store as plantrail made it on 2026-12-03, before break-glass reads.

The schema of commit ac81c6b (the parent of 3df6a79): events, commands, snapshots, the access
log, users, passwords, tokens, supervision, web sessions and the caseload read models. Nothing
to do: a store that records no version starts here, and every later step checks what is there.
"""

from __future__ import annotations

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass
