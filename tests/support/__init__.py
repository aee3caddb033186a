"""Test helpers shared by every category, one module per kind:

- ``tests.support.clock``: ``FakeClock`` and ``at``;
- ``tests.support.plans``: actors, command envelopes (``meta``) and plan builders;
- ``tests.support.stores``: database URLs, PostgreSQL databases and schemas, ``running_service``;
- ``tests.support.http``: the HTTP app over a store with a small practice's users;
- ``tests.support.cli``: the ``plantrail`` console script run in a subprocess;
- ``tests.support.fhir``: what every FHIR test checks of resources and Bundles.

The names of the former ``tests/support.py`` are re-exported here, so ``from tests.support
import meta`` still gives the plan builders' ``meta`` (not ``tests.support.http.meta``).
"""

from tests.support.clock import FakeClock, at
from tests.support.plans import (
    CLINICIAN,
    SUPERVISOR,
    build_signed_plan,
    copy_forward_history,
    meta,
    open_command,
    open_plan,
)
from tests.support.stores import (
    PG_ENV,
    postgres_database,
    postgres_schema_url,
    running_service,
    sqlite_url,
)

__all__ = [
    "CLINICIAN",
    "PG_ENV",
    "SUPERVISOR",
    "FakeClock",
    "at",
    "build_signed_plan",
    "copy_forward_history",
    "meta",
    "open_command",
    "open_plan",
    "postgres_database",
    "postgres_schema_url",
    "running_service",
    "sqlite_url",
]
