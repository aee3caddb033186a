"""FHIR's JSON responses: ``application/fhir+json``, weak ETags, OperationOutcome errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Response

from plantrail.projections.fhir import operation_outcome

FHIR_JSON = "application/fhir+json"

# The error root's HTTP statuses, as FHIR issue types (http://hl7.org/fhir/issue-type).
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-costly",
    422: "invalid",
    429: "throttled",
    500: "exception",
    503: "transient",
}


class FhirResponse(Response):
    media_type = f"{FHIR_JSON}; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def fhir(
    resource: Mapping[str, Any],
    *,
    status: int = 200,
    version: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> FhirResponse:
    """A resource or Bundle; with ``version``, its ETag (``W/"7"``) and Last-Modified."""
    out = dict(headers or {})
    if version is not None:
        out["ETag"] = f'W/"{version}"'
    return FhirResponse(dict(resource), status_code=status, headers=out)


def outcome(
    status: int, diagnostics: str, headers: Mapping[str, str] | None = None
) -> FhirResponse:
    """An error as an OperationOutcome with the status's issue type."""
    code = ISSUE_TYPES.get(status, "processing")
    return fhir(operation_outcome(code, diagnostics), status=status, headers=headers)
