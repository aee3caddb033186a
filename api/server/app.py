"""The FastAPI application: ``create_app(service)`` and the factory ``plantrail serve`` runs.

Endpoints are plain ``def`` functions (run in the thread pool): the engine is synchronous, and
one ``PlanService`` per process is shared by those threads (eventsourcing note §5.1).
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.openapi.utils import get_openapi

from plantrail.api.fhir.app import create_fhir_app
from plantrail.api.http import (
    routes_audit_requests,
    routes_audits,
    routes_client,
    routes_content,
    routes_packet,
    routes_plans,
    routes_reports,
    routes_system,
    routes_views,
    routes_vocabulary,
    routes_workflow,
)
from plantrail.api.routing import metrics
from plantrail.api.routing.context import PRACTICE_NAME, AppContext, Settings
from plantrail.api.routing.documents import RenderedDocuments
from plantrail.api.routing.problems import FieldError, Problem, install_error_handlers, route_table
from plantrail.api.server.middleware import AccessLogMiddleware
from plantrail.api.server.observability import ObservedRequests
from plantrail.api.web.app import create_web_app
from plantrail.domain.service import PlanService
from plantrail.projections.access.access_log import AccessLog
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.access.break_glass import BreakGlass
from plantrail.projections.access.gateway import PlanGateway
from plantrail.projections.access.readiness import Readiness
from plantrail.projections.access.web_sessions import (
    SECURE_COOKIES,
    SESSION_HOURS,
    SESSION_IDLE_MINUTES,
    WebSessions,
)
from plantrail.projections.assembly import KEY_DIR, open_service, recorder_of
from plantrail.projections.profile import RuleProfile
from plantrail.projections.store.driver import Driver
from plantrail.projections.store.recorder import to_micros

DESCRIPTION = """\
The immutable history of psychotherapy treatment plans. Every request except `GET /health` and
`GET /ready` carries `Authorization: Bearer <token>` (tokens come from `plantrail users add`).
Every answer carries `X-Request-ID`. Errors are `application/problem+json`. Plan responses carry
`ETag: "<version>"`; writes accept `If-Match` (stale → 412) and `Idempotency-Key` (retry-safe).
See docs/api.md.
"""


def create_app(
    service: PlanService,
    *,
    accounts: Accounts | None = None,
    settings: Settings | None = None,
    close_service: bool = False,
) -> FastAPI:
    """The HTTP API over ``service``. Account and access-log tables are created if missing."""
    settings = settings or Settings(late_entry_days=service.late_entry_days)
    recorder = recorder_of(service)
    accounts = accounts or Accounts(recorder.engine)
    accounts.create_tables()
    # Links expire on the server's clock, the one every event and session is stamped with.
    accounts.clients.clock_us = lambda: to_micros(service.clock())
    access_log = AccessLog(recorder.engine, recorder.chain_key, service.clock)
    access_log.create_tables()
    sessions = WebSessions(
        recorder.engine,
        clock_us=lambda: to_micros(service.clock()),
        # The CSRF tokens of every worker must agree: derive their key from the store's key.
        secret=hmac.new(
            recorder.chain_key or secrets.token_bytes(32), b"web-csrf", "sha256"
        ).digest(),
        idle_seconds=settings.session_idle_seconds,
        absolute_seconds=settings.session_absolute_seconds,
    )
    sessions.create_tables()
    break_glass = BreakGlass(recorder.engine, service.clock)
    break_glass.create_tables()
    readiness = Readiness(access_log, lambda: to_micros(service.clock()))
    readiness.create_tables()
    # One profile object: the findings' (``reads.rule_profile``) and the continuation rule's.
    if settings.profile is None:
        settings.profile = RuleProfile()
    profile = settings.profile
    if not isinstance(profile, RuleProfile):
        raise TypeError("settings.profile must be a RuleProfile")
    context = AppContext(
        service=service,
        accounts=accounts,
        access_log=access_log,
        gateway=PlanGateway(service, accounts, profile=profile),
        documents=RenderedDocuments(),
        break_glass=break_glass,
        settings=settings,
        sessions=sessions,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # An audit request still running finishes (its packets' access-log entries with it)
        # before the log and the store close; one waiting is dropped: the auditor resubmits.
        routes_audit_requests.shut_down(app)
        context.access_log.close()  # stores what is queued: no request is left waiting
        context.accounts.close()
        if close_service:
            service.close()
            recorder.close()

    app = FastAPI(
        title="plantrail",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_schema_pages(app)
    app.state.plantrail = context
    app.state.readiness = readiness
    app.state.metrics_state = metrics.StateCollector(
        recorder.engine,
        access_log,
        checkpoints=lambda: checkpoint_folder(service),
        driver_idle=Driver.of(recorder.engine).idle,
    )
    install_error_handlers(app)
    app.add_middleware(
        AccessLogMiddleware,
        access_log=lambda: context.access_log,
        accounts=lambda: context.accounts,
        limiter=lambda: context.limiter,
        max_body_bytes=settings.max_body_bytes,
        sessions=lambda: context.sessions,
        fast_read=lambda: fast_read,
    )
    fast_read: routes_plans.FastPlanRead | None = None
    for module in (
        routes_system,
        routes_plans,
        routes_views,
        routes_content,
        routes_workflow,
        routes_reports,
        routes_audits,
        routes_audit_requests,
        routes_packet,
        routes_client,
        routes_vocabulary,
    ):
        app.include_router(module.router)
    fast_read = routes_plans.FastPlanRead(context)

    app.mount("/web", create_web_app(context), name="web")
    app.mount("/fhir", create_fhir_app(context), name="fhir")
    app.state.route_table = route_table(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (FieldError, Problem):
                found = model.model_json_schema(ref_template="#/components/schemas/{model}")
                found.pop("$defs", None)
                schemas[model.__name__] = found
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            add_links(schema)
            add_examples(schema, service.clock().date())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    observe_requests(app)
    return app


def observe_requests(app: FastAPI) -> None:
    """Wrap the whole app, Starlette's error middleware included, in ``ObservedRequests``: the
    request id, the metrics and the request-log line then cover every answer, a 500 too."""
    build = app.build_middleware_stack

    def built() -> Any:
        return ObservedRequests(build(), app.routes)

    app.build_middleware_stack = built  # type: ignore[method-assign]


def checkpoint_folder(service: PlanService) -> Path | None:
    """Where ``plantrail checkpoint`` writes: ``checkpoints`` next to the key folder."""
    key_dir = service.env.get(KEY_DIR)
    return Path(key_dir).resolve().parent / "checkpoints" if key_dir else None


DOCS_ASSETS = resources.files("fastapi_offline") / "static"
"""Swagger UI's and ReDoc's files as the ``fastapi-offline`` package ships them."""
_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}


def install_schema_pages(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` with their scripts served from the installed package: the pages
    work offline, and the page where a user pastes a token runs no third-party script. Plain
    routes, as FastAPI's own viewers are: public, not records, no access policy."""
    assets = "/docs/assets"

    async def swagger(_: Request) -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="plantrail - API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    async def swagger_redirect(_: Request) -> Response:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(_: Request) -> Response:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="plantrail - API",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = _ASSET_TYPES.get(name)
        if media_type is None:
            return Response(status_code=404)
        return Response(
            (DOCS_ASSETS / name).read_bytes(),
            media_type=media_type,
            headers={"Cache-Control": "max-age=86400"},
        )

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route("/docs/oauth2-redirect", swagger_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
    app.add_route(assets + "/{name}", asset, include_in_schema=False)


def app_from_env() -> FastAPI:
    """The app ``plantrail serve`` runs in each worker: store and keys from the environment
    (``PLANTRAIL_DATABASE_URL``, ``PLANTRAIL_KEY_DIR``)."""
    service = open_service(os.environ.get("PLANTRAIL_DATABASE_URL"))
    settings = Settings(
        late_entry_days=service.late_entry_days,
        session_idle_seconds=60 * int(os.environ.get(SESSION_IDLE_MINUTES, "15")),
        session_absolute_seconds=3600 * int(os.environ.get(SESSION_HOURS, "12")),
        secure_cookies=os.environ.get(SECURE_COOKIES) == "1",
        practice=os.environ.get(PRACTICE_NAME) or None,
    )
    return create_app(service, settings=settings, close_service=True)


def add_examples(schema: dict[str, Any], today: date) -> None:
    """A ready-to-send example for opening a plan (its dates are relative to today)."""
    opening = schema.get("components", {}).get("schemas", {}).get("OpenPlanBody")
    if opening is not None:
        opening["examples"] = [
            {
                "client": {"id": "MRN-1001", "name": "Alex Moreno", "date_of_birth": "1988-05-17"},
                "plan_end_date": (today + timedelta(days=364)).isoformat(),
                "review_interval_days": 90,
                "service_type": "individual",
                "session_minutes": 53,
            }
        ]


def add_links(schema: dict[str, Any]) -> None:
    """OpenAPI links from each creation to what can be done with what it created: from
    ``POST /plans`` to every operation on the plan, and from ``POST /plans/{plan_id}/goals`` to
    ``PATCH /plans/{plan_id}/goals/{item_id}`` and the like (clients and stateful testing)."""
    operations = [
        (path, method, operation)
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    for path, method, operation in operations:
        created = operation.get("responses", {}).get("201")
        if method != "post" or created is None:
            continue
        links: dict[str, Any] = {}
        for target_path, _, target in operations:
            if target is operation or not target_path.startswith(path + "/{"):
                continue
            rest = target_path[len(path) :]
            params = {"plan_id": "$response.body#/plan_id"}
            if path != "/plans":
                params[rest[2 : rest.index("}")]] = "$response.body#/id"
            links[target["operationId"]] = {
                "operationId": target["operationId"],
                "parameters": {k: v for k, v in params.items() if "{" + k + "}" in target_path},
            }
        if links:
            created["links"] = links
