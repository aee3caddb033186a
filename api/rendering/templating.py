"""Rendering pages: one Jinja2 environment with autoescaping on, and the headers every page
carries (a Content-Security-Policy that allows no script at all, no caching of clinical pages)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from plantrail.api.routing.context import PRINCIPAL_KEY, SESSION_KEY
from plantrail.projections.access.policy import Principal
from plantrail.projections.access.web_sessions import ActiveSession
from plantrail.projections.vocabulary import field_path, word, yes_no

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
"""No script is needed to read or use any page, so none is allowed: an injected ``<script>``
could not run even if escaping ever failed."""
AUTHORING_CSP = CSP.replace(
    "default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';"
)
"""The authoring pages run the app's own script files (never inline script): search-as-you-type
for diagnosis codes and the live copy-forward check. Every form works without them."""
AUTHORING_HEADERS = {"Content-Security-Policy": AUTHORING_CSP}
SIGN_IN_CSP = CSP.replace("default-src 'none';", "default-src 'none'; script-src 'self';")
"""The sign-in page alone runs one script, its own file from ``/web/static`` (never inline): it
fills the key of a client's link from the address's fragment. The page works without it."""
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def _when(value: str | None) -> str:
    """'2026-02-16T09:51:00Z' → '2026-02-16 09:51 UTC' (every time on a page is in UTC)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _words(value: object) -> str:
    """'partially_met' → 'partially met': the one vocabulary (``projections/vocabulary.py``)."""
    return word(value)


ENVIRONMENT = Environment(
    loader=PackageLoader("plantrail.api.rendering", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters["when"] = _when
ENVIRONMENT.filters["words"] = _words
ENVIRONMENT.filters["field"] = field_path
ENVIRONMENT.filters["yesno"] = yes_no
ENVIRONMENT.filters["num"] = lambda v: (
    "—" if v is None else (f"{v:g}" if isinstance(v, float) else v)
)


def caller_of(request: Request) -> Principal | None:
    found = request.scope.get("state", {}).get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def session_of(request: Request) -> ActiveSession | None:
    found = request.scope.get("state", {}).get(SESSION_KEY)
    return found if isinstance(found, ActiveSession) else None


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered with the signed-in user, the session's CSRF token and ``values``."""
    session = session_of(request)
    html = ENVIRONMENT.get_template(template).render(
        user=caller_of(request),
        csrf_token=session.csrf_token if session else "",
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
