"""The request lines ``plantrail serve`` logs: method, path without its query, status."""

from __future__ import annotations

import logging
import logging.config

from plantrail.api.cli.request_log import RequestLine, log_config


def _access_record(path: str) -> logging.LogRecord:
    # as uvicorn's HTTP protocols log each answer
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("10.1.2.3:5555", "GET", path, "1.1", 200), None,
    )  # fmt: skip


def test_a_request_line_keeps_no_query_and_no_address() -> None:
    record = _access_record("/fhir/CarePlan?subject=Patient/MRN-20417&_lastUpdated=ge2026")
    assert RequestLine().filter(record)
    assert record.getMessage() == '"GET /fhir/CarePlan" 200'
    signed = _access_record("/web/sign-in?key=pc_0123456789abcdef_" + "a" * 43)
    RequestLine().filter(signed)
    assert signed.getMessage() == '"GET /web/sign-in" 200'


def test_serve_logs_through_the_filter() -> None:
    config = log_config()
    assert config["handlers"]["access"]["filters"] == ["request_line"]
    assert config["filters"]["request_line"]["()"] == "plantrail.api.cli.request_log.RequestLine"
    filters = logging.Filterer()
    factory = config["filters"]["request_line"]["()"].rsplit(".", 1)
    assert factory == ["plantrail.api.cli.request_log", "RequestLine"]
    assert filters.filter(_access_record("/plans"))
