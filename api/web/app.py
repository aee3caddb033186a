"""The pages as an application mounted at ``/web`` on the API's app: the API's middleware (one
authentication, one access log) runs around it; its errors are HTML pages, not problem+json."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from plantrail.api.rendering.templating import SECURITY_HEADERS, caller_of, page, session_of
from plantrail.api.routing.access import PublicAccess
from plantrail.api.routing.context import AppContext
from plantrail.api.routing.problems import out_of_range, status_of
from plantrail.api.web import (
    routes_auth,
    routes_hand_over,
    routes_pages,
    routes_rights,
    routes_vocabulary,
    routes_writes,
)
from plantrail.api.web.authoring import opening
from plantrail.api.web.authoring import routes as authoring
from plantrail.domain.errors import InvalidInput, PlanNotFound, PlantrailError
from plantrail.projections.access.policy import BREAK_GLASS_ROLES

log = logging.getLogger("plantrail.web")

STATIC = Path(__file__).parent / "static"
STATIC_FILES = PublicAccess("web-static")
"""Style sheets: public, and not logged (the middleware passes ``/web/static/`` through)."""

NOT_FOUND = "There is no plan here, or it is not in your caseload."
"""The same words for a plan that does not exist and one the user may not see."""


_PLAN_PAGE = re.compile(r"^/web/plans/([0-9a-f-]{36})(?:/|$)")


def _emergency_plan(request: Request) -> str | None:
    """The plan a not-found plan page was for, when its reader may ask for emergency access
    (by role and address only: the page is the same whether the plan exists or not)."""
    caller = caller_of(request)
    found = _PLAN_PAGE.match(request.url.path)
    if caller is None or caller.role not in BREAK_GLASS_ROLES or found is None:
        return None
    return found.group(1)


def create_web_app(context: AppContext) -> FastAPI:
    # While a session is handed over to a client, every page but its hand-over screen answers
    # with that screen (routes_hand_over.hand_over_guard).
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(routes_hand_over.hand_over_guard)],
    )
    app.state.plantrail = context
    app.state.sign_in_limiter = routes_auth.SignInLimiter()  # per app: one per worker process
    app.include_router(routes_auth.router)
    # Before the plan pages: /web/plans/new is the form, not a plan id.
    app.include_router(opening.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_writes.router)
    app.include_router(routes_rights.router)
    app.include_router(authoring.router)
    app.include_router(routes_vocabulary.router)
    app.include_router(routes_hand_over.router)

    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}

    @app.get("/static/{name}", include_in_schema=False)
    def stylesheet(name: str, _: Annotated[None, Depends(STATIC_FILES)]) -> Response:
        # Only the files shipped with the package: a name can never reach outside the folder.
        if name not in files:
            return HTMLResponse("not found", status_code=404)
        return FileResponse(
            files[name],
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    def error_page(
        request: Request, status: int, title: str, message: str, **extra: object
    ) -> HTMLResponse:
        return page(request, "error.html", status=status, title=title, message=message,
                    break_glass_plan=extra.get("break_glass_plan"))  # fmt: skip

    def on_domain(request: Request, error: Exception) -> Response:
        assert isinstance(error, PlantrailError)
        if isinstance(error, PlanNotFound):
            return error_page(request, 404, "Plan not found", NOT_FOUND,
                              break_glass_plan=_emergency_plan(request))  # fmt: skip
        status, _ = status_of(error)
        if status >= 500:
            log.error("page failed: %s", error)
            return error_page(request, status, "Unavailable", str(error))
        return error_page(request, status, type(error).title, str(error))

    def on_validation(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        problems = error.errors()
        if any(p.get("loc", ())[:2] == ("path", "plan_id") for p in problems):
            return error_page(request, 404, "Plan not found", NOT_FOUND)
        words = "; ".join(
            f"{'.'.join(str(x) for x in p.get('loc', ())[1:])}: {p.get('msg', 'invalid')}"
            for p in problems
        )
        return error_page(request, 422, InvalidInput.title, words)

    def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        session = session_of(request)
        if session is not None and session.hand_over is not None:
            # No page, not even an error page with the clinician's menu, while handed over.
            return routes_hand_over.to_screen(
                request, routes_hand_over.HandedOver(session.hand_over.plan_id)
            )
        if error.status_code == 404:
            return error_page(request, 404, "Page not found", "There is no page at this address.")
        titles = {401: "Sign in", 403: "Not allowed", 405: "Not allowed", 429: "Too many"}
        return error_page(
            request, error.status_code, titles.get(error.status_code, "Error"), str(error.detail)
        )

    def on_unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on a page", exc_info=error)
        response = error_page(
            request, 500, "Something went wrong", "An unexpected error occurred; nothing changed."
        )
        response.headers.update(SECURITY_HEADERS)
        return response

    def on_overflow(request: Request, error: Exception) -> Response:
        return on_domain(request, out_of_range())

    app.add_exception_handler(routes_hand_over.HandedOver, routes_hand_over.to_screen)
    app.add_exception_handler(PlantrailError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(OverflowError, on_overflow)
    app.add_exception_handler(Exception, on_unexpected)
    return app
