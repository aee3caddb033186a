"""Running plantrail for real: liveness and readiness, the metrics page, request ids and the
one JSON line per request (docs/api.md, "Running it"; docs/operations.md, "Monitoring").

The faults behind ``/ready``'s 503 (a full disk, a stalled database) are injected as
``tests/integration/test_disk_full.py`` and ``test_database_stall.py`` do; those tests live
there, next to the faults.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from plantrail.api.cli.request_log import JsonLines
from tests.support.http import Practice, practice
from tests.support.plans import full_plan

UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
IDENTIFYING = re.compile(r"MRN|pt_[0-9a-f]{16}|pc_[0-9a-f]{16}|\?|[0-9a-f]{32}", re.I)


@pytest.fixture
def running(store_url: str, tmp_path: Path) -> Iterator[Practice]:
    with practice(store_url, tmp_path) as found:
        yield found


def samples(page: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a metrics page, parsed by prometheus-client's own parser."""
    found = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(running: Practice) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = running.request("admin", "GET", "/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


def requests_of(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], route: str, status: str
) -> float:
    key = ("plantrail_http_requests_total",
           (("method", "GET"), ("route", route), ("status", status)))  # fmt: skip
    return found.get(key, 0.0)


def test_health_is_liveness_and_ready_checks_the_store(running: Practice) -> None:
    health = running.request(None, "GET", "/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = running.request(None, "GET", "/ready")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert {"write", "access_log"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())
    # Neither is a record: no access-log row.
    assert not [e for e in running.access_log() if e["route"] in ("/health", "/ready")]


def test_ready_is_503_when_the_access_log_cannot_write(running: Practice) -> None:
    log = running.app.state.plantrail.access_log
    key, log.key = log.key, None  # no row can be chained: every logged request would be a 503
    try:
        ready = running.request(None, "GET", "/ready")
    finally:
        log.key = key
    assert ready.status_code == 503
    assert ready.headers["Retry-After"] == "1"
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["checks"]["access_log"]["ok"] is False
    assert "access log" in ready.json()["detail"]
    assert running.request(None, "GET", "/ready").status_code == 200


def test_a_failed_group_commit_counts_until_the_store_takes_a_write_again(
    running: Practice,
) -> None:
    readiness = running.app.state.readiness
    log = running.app.state.plantrail.access_log
    now = time.monotonic()
    log.last_failure = (now, "cannot write the access log: the database disk is full")
    # The write probe failed too, or ran before the failure: not ready.
    assert readiness._access_log(None).ok is False
    assert readiness._access_log(now - 1).ok is False
    # A probe that committed after the failure: the store takes writes again.
    assert readiness._access_log(now + 0.001).ok is True
    # A failure older than the window no longer counts.
    log.last_failure = (now - 31, "old")
    assert readiness._access_log(None).ok is True
    log.last_failure = None


def test_metrics_parse_move_and_name_no_one(running: Practice) -> None:
    plan = full_plan(running.service)
    path = f"/plans/{plan['plan_id']}"
    before = scrape(running)
    for _ in range(3):
        assert running.request("dana", "GET", path).status_code == 200
    assert running.request("dana", "GET", f"{path}?as_of=2026-01-01T00:00:00Z").status_code
    assert running.request("dana", "POST", path + "/strengths", json={"text": "Walks"}).is_success
    assert running.request("dana", "GET", path + "/verify").json()["ok"] is True
    assert running.request(None, "GET", "/plans/nowhere/at/all").status_code in (401, 404)
    after = scrape(running)

    template = "/plans/{plan_id}"
    assert requests_of(after, template, "200") >= requests_of(before, template, "200") + 3
    assert after[("plantrail_store_writes_total", ())] > before.get(
        ("plantrail_store_writes_total", ()), 0
    )
    assert after[("plantrail_store_events_appended_total", ())] >= 1
    assert after[("plantrail_verify_runs_total", (("result", "ok"),))] >= 1
    assert after[("plantrail_access_log_batches_total", (("result", "ok"),))] > 0
    assert after[("plantrail_access_log_commit_seconds_count", ())] > 0
    assert after[("plantrail_access_log_batch_rows_count", ())] > 0
    assert ("plantrail_db_pool_connections", (("state", "driver_idle"),)) in after
    histogram = ("plantrail_http_request_duration_seconds_count",
                 (("method", "GET"), ("route", template)))  # fmt: skip
    assert after[histogram] >= 3
    # No label names a plan, a client, a token or a query: only templates and closed sets.
    for (_, labels), _ in after.items():
        for name, value in labels:
            assert not UUID.search(value), (name, value)
            assert not IDENTIFYING.search(value), (name, value)
    assert str(plan["plan_id"]) not in running.request("admin", "GET", "/metrics").text


def test_metrics_are_for_admins_only(running: Practice) -> None:
    assert running.request(None, "GET", "/metrics").status_code == 401
    for who in ("dana", "sam", "alex"):
        answer = running.request(who, "GET", "/metrics")
        assert answer.status_code == 403, who
        assert answer.headers["content-type"] == "application/problem+json"
    assert running.request("admin", "GET", "/metrics").status_code == 200
    logged = running.access_log()[-1]
    assert (logged["route"], logged["user_id"], logged["action"]) == (
        "/metrics",
        "admin",
        "view:metrics",
    )


def test_checkpoint_age_is_on_the_page(running: Practice) -> None:
    assert running.keys is not None
    folder = running.keys.parent / "checkpoints"
    folder.mkdir(exist_ok=True)
    (folder / "checkpoint-20260101T000000Z.json").write_text("{}")
    found = scrape(running)
    assert found[("plantrail_checkpoint_age_seconds", ())] >= 0
    assert found[("plantrail_checkpoint_last_timestamp_seconds", ())] > 0


def test_request_id_is_echoed_everywhere_and_logged(running: Practice) -> None:
    plan = full_plan(running.service)
    sent = {"X-Request-ID": "lb-4f1c.2_a"}
    for who, path in (
        ("dana", f"/plans/{plan['plan_id']}"),
        (None, "/health"),
        (None, "/ready"),
        (None, f"/plans/{plan['plan_id']}"),  # 401
        ("dana", "/no/such/address"),  # 404
        ("admin", f"/plans/{plan['plan_id']}"),  # 403
        (None, "/web/sign-in"),  # a page
        ("dana", "/fhir/metadata"),
        (None, "/openapi.json"),
    ):
        answer = running.request(who, "GET", path, headers=sent)
        assert answer.headers["X-Request-ID"] == "lb-4f1c.2_a", (path, answer.status_code)
        fresh = running.request(who, "GET", path)
        assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"]), path
    # An id that is not a safe short token is replaced, never echoed.
    for unsafe in ("a b", "x" * 65, "<script>", "id;drop"):
        answer = running.request("dana", "GET", "/me", headers={"X-Request-ID": unsafe})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"]), unsafe
    # The access-log row carries the id the caller saw.
    answer = running.request("dana", "GET", "/me", headers={"X-Request-ID": "trace-77"})
    assert running.access_log()[-1]["request_id"] == "trace-77"
    written = running.request(
        "dana", "POST", f"/plans/{plan['plan_id']}/strengths", json={"text": "Sings"},
        headers={"X-Request-ID": "write-78"},
    )  # fmt: skip
    assert written.status_code == 201
    assert running.access_log()[-1]["request_id"] == "write-78"
    assert answer.headers["X-Request-ID"] == "trace-77"
    assert running.verify_access_log()


def test_one_json_line_per_request_without_query_token_or_client(
    running: Practice, caplog: pytest.LogCaptureFixture
) -> None:
    plan = full_plan(running.service)
    token = running.tokens["dana"]
    with caplog.at_level(logging.INFO, logger="plantrail.http.requests"):
        answer = running.request(
            "dana", "GET",
            f"/plans/{plan['plan_id']}?as_of=2026-01-01T00:00:00Z&client=MRN-4471",
            headers={"X-Request-ID": "req-1"},
        )  # fmt: skip
        running.request(None, "GET", "/fhir/Patient?identifier=MRN-4471")
    assert answer.status_code in (200, 404)
    records = [r for r in caplog.records if r.name == "plantrail.http.requests"]
    assert len(records) == 2
    formatter = JsonLines()
    lines = [formatter.format(record) for record in records]
    first = json.loads(lines[0])
    assert first["route"] == "/plans/{plan_id}"
    assert first["method"] == "GET"
    assert first["status"] == answer.status_code
    assert first["user_id"] == "dana-reyes"
    assert first["request_id"] == "req-1"
    assert first["duration_ms"] >= 0
    assert "\n" not in lines[0]
    for line in lines:
        for secret in (token, "MRN-4471", "as_of", "2026-01-01", str(plan["plan_id"]), "?"):
            assert secret not in line, (secret, line)
        assert "testclient" not in line  # no client address either
    assert json.loads(lines[1])["user_id"] is None


def test_unmatched_addresses_are_one_label(running: Practice) -> None:
    for n in range(3):
        running.request("dana", "GET", f"/nothing-here-{n}")
    found = scrape(running)
    routes = {dict(labels).get("route") for (name, labels) in found if "route" in dict(labels)}
    assert not [r for r in routes if r and "nothing-here" in r]
    assert requests_of(found, "(unmatched)", "404") >= 3


def test_a_defect_500_carries_the_request_id_too(running: Practice) -> None:
    from fastapi import Depends

    from plantrail.api.routing.access import ANY_USER

    @running.app.get("/defect", dependencies=[Depends(ANY_USER)])
    def defect() -> None:
        raise RuntimeError("a defect")

    running.app.middleware_stack = None  # rebuilt with the new route on the next request
    answer = running.request("dana", "GET", "/defect", headers={"X-Request-ID": "boom-1"})
    assert answer.status_code == 500
    assert answer.headers["X-Request-ID"] == "boom-1"
    assert running.access_log()[-1]["request_id"] == "boom-1"
