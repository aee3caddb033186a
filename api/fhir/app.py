"""The FHIR interface as an application mounted at ``/fhir`` on the API's app: the API's
middleware (one authentication, one access log) runs around it; its errors are
OperationOutcome resources, not problem+json, because FHIR clients read those."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from plantrail.api.fhir import routes
from plantrail.api.fhir.responses import outcome
from plantrail.api.routing.context import AppContext
from plantrail.api.routing.problems import out_of_range, status_of
from plantrail.domain.errors import InvalidInput, PlanNotFound, PlantrailError

log = logging.getLogger("plantrail.fhir")

NOT_FOUND = "no CarePlan with this id is in your reach"
"""The same words for a plan that does not exist and one the caller may not see."""


def create_fhir_app(context: AppContext) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.plantrail = context
    app.include_router(routes.router)

    def on_domain(_: Request, error: Exception) -> Response:
        assert isinstance(error, PlantrailError)
        if isinstance(error, PlanNotFound):
            return outcome(404, NOT_FOUND)
        status, _slug = status_of(error)
        if isinstance(error, InvalidInput):
            status = 400  # FHIR answers a bad read or search parameter with 400
        if status >= 500:
            log.error("FHIR read failed: %s", error)
        return outcome(status, str(error))

    def on_validation(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        problems = error.errors()
        if any(p.get("loc", ())[:2] == ("path", "plan_id") for p in problems):
            return outcome(404, NOT_FOUND)
        words = "; ".join(
            f"{'.'.join(str(x) for x in p.get('loc', ())[1:])}: {p.get('msg', 'invalid')}"
            for p in problems
        )
        return outcome(400, words)

    def on_http(_: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 404:
            return outcome(404, "no FHIR endpoint at this address (see /fhir/metadata)")
        return outcome(error.status_code, str(error.detail), headers=error.headers)

    def on_unexpected(_: Request, error: Exception) -> Response:
        log.exception("unexpected error in a FHIR read", exc_info=error)
        return outcome(500, "an unexpected error occurred; nothing changed")

    def on_overflow(request: Request, error: Exception) -> Response:
        return on_domain(request, out_of_range())

    app.add_exception_handler(PlantrailError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(OverflowError, on_overflow)
    app.add_exception_handler(Exception, on_unexpected)
    return app
