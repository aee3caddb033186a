"""A server clock tests can move, and moving it to a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


class FakeClock:
    """A server clock tests can move; always timezone-aware UTC."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def at(clock: FakeClock, day: date) -> None:
    """Move ``clock`` to 09:00 UTC on ``day``."""
    clock.now = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
