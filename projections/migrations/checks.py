"""What a step asks before it acts: every step adapts to the store in front of it, because a
store that recorded no version may have been made at any commit since the baseline."""

from __future__ import annotations

from alembic import op
from sqlalchemy import inspect


def has_table(name: str) -> bool:
    return inspect(op.get_bind()).has_table(name)


def columns(table: str) -> dict[str, dict[str, object]]:
    return {c["name"]: dict(c) for c in inspect(op.get_bind()).get_columns(table)}


def indexes(table: str) -> set[str]:
    return {str(i["name"]) for i in inspect(op.get_bind()).get_indexes(table)}


def dialect() -> str:
    return op.get_bind().dialect.name
