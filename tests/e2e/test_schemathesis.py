"""Schemathesis over the whole OpenAPI schema, in-process, authenticated, every phase.

The same engine as ``schemathesis run`` (examples, coverage, fuzzing, stateful through the
schema's links) drives the app through ASGI with every check enabled; the test fails on any
failed check or engine error. At least 100 examples per operation when ``CI`` is set (15
otherwise, for a quick local run); ``PLANTRAIL_SCHEMATHESIS_EXAMPLES`` overrides, and
``PLANTRAIL_SCHEMATHESIS_SEED`` replays a run (a fixed seed by default, so CI is repeatable).

``positive_data_acceptance`` also accepts 404, 409, 412 and 422 for schema-valid requests: a
random plan id does not exist, and rules the schema cannot state (an effective date in the
future, an end date under a year away, a revision that changes nothing) refuse well-formed input
with 422 by design. ``negative_data_rejection`` keeps its defaults: anything the schema forbids
must be refused.

Afterwards, every plan the run created is checked from another clinician's token (BOLA: the
404 must equal the 404 of a plan that does not exist), and the access log must verify.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from plantrail.projections.assembly import recorder_of
from tests.support.http import Practice
from tests.support.plans import full_plan

pytestmark = pytest.mark.slow

ITEM_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
EXAMPLES = int(
    os.environ.get("PLANTRAIL_SCHEMATHESIS_EXAMPLES") or (100 if os.environ.get("CI") else 15)
)
SEED = int(os.environ.get("PLANTRAIL_SCHEMATHESIS_SEED") or 20260302)


def config(token: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            "auth": {"openapi": {"bearerToken": {"bearer": token}}},
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", 401, 403, 404, 409, 412, 422]
                },
            },
        }
    )


def run(running: Practice, known: dict[str, Any]) -> dict[str, Any]:
    """Run every phase; returns the operations, cases per phase, failures and errors."""
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", running.app, config=config(running.tokens["dana"])
    )
    items = sorted(str(v) for k, v in known.items() if k not in ("plan_id", "version"))

    @schema.hook
    def before_generate_path_parameters(_: Any, strategy: st.SearchStrategy[Any]) -> Any:
        """Half the well-formed ids become ids that exist, so that requests get past 404 and
        reach the rules and projections; malformed ids stay malformed (negative cases)."""

        def real(params: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
            if not isinstance(params, dict):
                return st.just(params)
            options = [params]
            if _is_uuid(params.get("plan_id")):
                swapped = {**params, "plan_id": str(known["plan_id"])}
                for name in ("item_id", "review_id"):
                    if isinstance(params.get(name), str) and ITEM_ID.match(params[name]):
                        swapped[name] = items
                options.append(swapped)
            return st.sampled_from(options).flatmap(_choose)

        return strategy.flatmap(real)

    operations: set[str] = set()
    cases: Counter[str] = Counter()
    failures: list[str] = []
    errors: list[str] = []
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            if event.phase.value != "stateful":  # stateful scenarios span operations
                operations.add(event.recorder.label)
            cases[str(event.phase.value)] += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status.name == "FAILURE":
                        detail = check.failure_info.failure if check.failure_info else ""
                        failures.append(f"{event.recorder.label}: {check.name}: {detail}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(repr(event))
    return {
        "operations": operations,
        "cases": cases,
        "failures": failures,
        "errors": errors,
        "seconds": time.monotonic() - started,
    }


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _choose(params: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Pick one of the real item ids wherever a list of them was put."""
    lists = {k: v for k, v in params.items() if isinstance(v, list)}
    if not lists:
        return st.just(params)
    return st.fixed_dictionaries(
        {k: st.sampled_from(v) if k in lists else st.just(v) for k, v in params.items()}
    )


def test_schemathesis_finds_nothing(running: Practice) -> None:
    known = full_plan(running.service)  # a plan that exists, for readers and writers
    result = run(running, known)
    total = sum(result["cases"].values())
    print(
        f"\nschemathesis ({recorder_of(running.service).engine.dialect.name}, seed {SEED}, "
        f"{EXAMPLES} examples per operation): {len(result['operations'])} operations, "
        f"{total} cases {dict(result['cases'])}, {len(result['failures'])} failures, "
        f"{len(result['errors'])} errors, {result['seconds']:.0f} s"
    )
    unique = sorted(set(result["failures"]))
    assert not unique, "\n\n".join(unique[:20])
    assert not result["errors"], result["errors"][:5]
    documented = {
        f"{method.upper()} {path}"
        for path, item in running.app.openapi()["paths"].items()
        for method in item
    }
    assert result["operations"] == documented
    assert {"examples", "coverage", "fuzzing", "stateful"} <= set(result["cases"])
    assert result["cases"]["fuzzing"] >= len(documented)

    # Object-level authorization over what the run created.
    created = recorder_of(running.service).plan_ids()
    assert len(created) > 1, "no POST /plans succeeded"
    assert running.service.load(known["plan_id"]).version > known["version"], "no write got in"
    nowhere = running.request("marcus", "GET", f"/plans/{uuid.uuid4()}")
    for plan_id in created:
        assert running.request("dana", "GET", f"/plans/{plan_id}").status_code == 200
        theirs = running.request("marcus", "GET", f"/plans/{plan_id}")
        assert theirs.status_code == 404
        assert theirs.content == nowhere.content
    assert running.verify_access_log()
