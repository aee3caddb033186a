"""Fixtures the end-to-end tests share."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import plantrail
from tests.support.http import Practice, practice


@pytest.fixture
def running(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    """A running practice (the HTTP app on a fresh store, with its users and tokens)."""
    with practice(store_url, tmp_path) as found:
        yield found


@pytest.fixture
def demo_store(store_url: str, tmp_path: Path) -> tuple[str, Path, list[dict[str, str]]]:
    """A fresh store (SQLite, or PostgreSQL when configured) holding the demo caseload, made
    with ``plantrail init`` and ``plantrail demo``; its URL, key folder and the demo plans."""
    keys = tmp_path / "cli-keys"
    plantrail("init", db=store_url, keys=keys)
    plans = json.loads(plantrail("demo", "--json", db=store_url, keys=keys).stdout)
    return store_url, keys, plans
