"""The request log ``plantrail serve`` writes (uvicorn's access log): method, path, status.

A URL's query can hold what must never reach a log file: a FHIR search names the client
(``subject=Patient/MRN-…``), and links once carried a client's key. So each line keeps only
the method, the path without its query, and the status; the client address is left out too (it
is in plantrail's own access log, which is the record of who read what: docs/api.md). Workers
configure logging from ``log_config()``, which names the filter by its import path.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG


class RequestLine(logging.Filter):
    """Rewrites uvicorn's access record (client, method, path with query, HTTP version,
    status) to ``"METHOD /path" STATUS``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _, method, full_path, _, status = args
            record.msg = '"%s %s" %s'
            record.args = (method, str(full_path).split("?", 1)[0], status)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the access lines reduced by ``RequestLine``."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"request_line": {"()": f"{__name__}.RequestLine"}}
    config["formatters"]["access"] = {
        "()": "uvicorn.logging.DefaultFormatter",
        "fmt": "%(levelprefix)s %(message)s",
    }
    config["handlers"]["access"]["filters"] = ["request_line"]
    return config
