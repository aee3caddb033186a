"""axe-core in a page: ``run_axe(page)`` returns its violations, ``serious_or_critical`` keeps
those that block a user, ``describe`` turns them into an assertion message.

axe-core is not a Python package: CI installs it from npm into a cache folder (``.ci/run``) and
points ``PLANTRAIL_AXE_JS`` at ``axe.min.js``; locally, run the same ``npm install`` line. Without
it the test is skipped, or fails when ``PLANTRAIL_REQUIRE_BROWSER=1`` (CI never skips silently).

The script is injected as an inline ``<script>``, which the product's Content-Security-Policy
forbids; the harness's browser contexts use ``bypass_csp=True`` for that reason (see conftest).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE_ENV = "PLANTRAIL_AXE_JS"
REQUIRE_ENV = "PLANTRAIL_REQUIRE_BROWSER"
BLOCKING = ("serious", "critical")


def missing(reason: str) -> NoReturn:
    """Skip for want of a browser-test tool, or fail when CI requires the browser tests."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: browser tests may not be skipped)")
    pytest.skip(reason)


def axe_path() -> Path:
    default = Path.home() / ".cache/plantrail-axe/node_modules/axe-core/axe.min.js"
    return Path(os.environ.get(AXE_ENV) or default)


@cache
def _axe_source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def run_axe(page: Page, *, selector: str | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` (or the part ``selector`` picks), every default rule."""
    path = axe_path()
    if not path.is_file():
        missing(
            f"no axe-core at {path}: npm install --no-save --prefix "
            '"$HOME/.cache/plantrail-axe" axe-core@4 (or set PLANTRAIL_AXE_JS)'
        )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_axe_source(path))
    violations: list[dict[str, Any]] = page.evaluate(
        "async (selector) =>"
        " (await axe.run(selector ?? document, {resultTypes: ['violations']})).violations",
        selector,
    )
    return violations


def serious_or_critical(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v.get("impact") in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation: rule, impact, help, and the offending elements."""
    if not violations:
        return "no axe violations"
    parts = []
    for v in violations:
        nodes = v.get("nodes", [])
        targets = "; ".join(" ".join(map(str, n.get("target", []))) for n in nodes[:5])
        more = f" (+{len(nodes) - 5} more)" if len(nodes) > 5 else ""
        parts.append(
            f"{v.get('id')} [{v.get('impact')}]: {v.get('help')} — {targets}{more}\n"
            f"  {v.get('helpUrl', '')}"
        )
    return f"{len(violations)} axe violation(s):\n" + "\n".join(parts)
