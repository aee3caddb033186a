"""The request log ``plantrail serve`` writes: one JSON line per request (``--log-format json``,
the default), or uvicorn's access line reduced to method, path and status (``human``).

A URL's query can hold what must never reach a log file: a FHIR search names the client
(``subject=Patient/MRN-…``), and links once carried a client's key. So each line keeps only
the method, the path without its query, and the status; the client address is left out too (it
is in plantrail's own access log, which is the record of who read what: docs/api.md). Workers
configure logging from ``log_config()``, which names the filter by its import path.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
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


LOG_FORMAT_ENV = "PLANTRAIL_LOG_FORMAT"
LOG_FORMATS = ("json", "human")


class JsonLines(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger`` and, for a request record
    (``plantrail.http.requests``), its fields (route template, method, status, duration_ms,
    user_id, request_id); for any other record its ``message`` (and ``error``, the exception's
    type, never its text or traceback's values, which could quote a record)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "request", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                line["error"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config_for(log_format: str) -> dict[str, Any]:
    """``plantrail serve``'s logging. ``json``: every line one JSON object on stderr, one per
    request from ``plantrail.http.requests`` (uvicorn's own request line is off: it holds the
    path as sent, with plan ids). ``human``: uvicorn's lines as ``log_config()`` has them."""
    if log_format != "json":
        return log_config()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonLines"}},
        "handlers": {
            "default": {
                "formatter": "json",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "plantrail": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
