"""Property: whatever the entries (any user, route, outcome, with or without a break-glass
reason in any Unicode), the access log's chain verifies, each stored reason reads back as it was
cleaned, and changing any one row's reason is located at that row."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text, update

from plantrail.projections.access.access_log import (
    BREAK_GLASS_REASON_MAX,
    AccessEntry,
    AccessLog,
    access_log,
    verify_access_log,
)
from plantrail.projections.assembly import open_service, recorder_of
from plantrail.projections.integrity.keys import create_keys
from tests.support.stores import sqlite_url

reasons = st.one_of(st.none(), st.text(min_size=1, max_size=BREAK_GLASS_REASON_MAX + 20))
entries = st.lists(
    st.builds(
        AccessEntry,
        method=st.sampled_from(["GET", "POST"]),
        route=st.text(min_size=1, max_size=40),
        user_id=st.one_of(st.none(), st.text(max_size=70)),
        status=st.sampled_from([200, 201, 403, 404]),
        outcome=st.sampled_from(["ok", "denied", "not_found", None]),
        break_glass_reason=reasons,
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=entries, victim=st.integers(min_value=0))
def test_the_chain_verifies_and_locates_an_edited_reason(
    batch: list[AccessEntry], victim: int
) -> None:
    with TemporaryDirectory() as folder:
        directory = Path(folder)
        create_keys(directory / "keys")
        service = open_service(sqlite_url(directory), directory / "keys")
        recorder = recorder_of(service)
        assert recorder.chain_key is not None
        try:
            log = AccessLog(recorder.engine, recorder.chain_key, service.clock)
            log.create_tables()
            numbers = [log.append(entry) for entry in batch]
            log.close()
            assert verify_access_log(recorder.engine, recorder.chain_key).ok
            stored = {row["seq"]: row["break_glass_reason"] for row in log.entries()}
            for seq, entry in zip(numbers, batch, strict=True):
                assert stored[seq] == entry.cleaned().get("break_glass_reason")

            seq = numbers[victim % len(numbers)]
            with recorder.engine.begin() as conn:
                conn.execute(text("DROP TRIGGER plantrail_access_log_no_update"))
                changed = "edited" if stored[seq] != "edited" else "changed"
                conn.execute(
                    update(access_log)
                    .where(access_log.c.seq == seq)
                    .values(break_glass_reason=changed)
                )
            report = verify_access_log(recorder.engine, recorder.chain_key)
            assert [p.seq for p in report.problems] == [seq]
        finally:
            service.close()
            recorder.close()
