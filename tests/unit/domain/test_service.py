"""The service's own clock: without one given, entries are recorded at the real time, in UTC
(``recorded_at`` is compared across plans and stores, so it is never local or naive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plantrail.domain.service import utc_now


def test_the_default_server_clock_is_the_current_time_in_utc() -> None:
    before = datetime.now(UTC)
    now = utc_now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC) + timedelta(seconds=1)
