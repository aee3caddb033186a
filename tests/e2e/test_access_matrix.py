"""Who may do what to which plan, over HTTP: every route × method × role × relationship.

One declarative table (``ROUTES`` with each route's policy, and ``EXPECTED`` per policy, role and
relationship) drives every cell. A plan outside the caller's reach must answer a 404 byte-identical
to a plan that does not exist; a write the role may not make answers 403; no token 401; and
every cell, allowed or denied, leaves one access-log entry naming the caller, the plan and the
outcome. ``test_route_inventory`` fails when a route is added without a policy or a row here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from plantrail.api.http import routes_audits
from plantrail.api.routing import access as auth
from plantrail.api.server.app import create_app
from plantrail.domain import commands as c
from tests.conftest import BACKENDS
from tests.support.http import USERS, Practice, meta, practice
from tests.support.plans import full_plan
from tests.support.stores import postgres_schema_url, sqlite_url

READ, WRITE, SIGN, OPEN, LIST, ME, HEALTH = "read", "write", "sign", "open", "list", "me", "health"
ENTRANCE, FAVICON = "entrance", "favicon"
READY, METRICS = "ready", "metrics"
"""``/ready``: public and not logged like ``/health``; ``/metrics``: admins, logged."""
"""``/`` (to the pages) and ``/favicon.ico``: public, not logged, like ``/health``."""
AUDIT = "audit"
AUDIT_JOB = "audit-job"
CURRENT, COPY, DISCLOSE, ISSUE, CSIGN = "current", "copy", "disclose", "issue", "client-sign"
BG_REPORT, BG_REVIEW = "break-glass-report", "break-glass-review"
CLIENT_WRITE = "client-write"

POLICIES = {
    READ: auth.READ_PLANS,
    LIST: auth.READ_PLANS,
    WRITE: auth.WRITE_PLAN,
    SIGN: auth.SIGN_OR_NOTE,
    OPEN: auth.OPEN_PLAN,
    ME: auth.ANY_USER,
    HEALTH: auth.HEALTH,
    READY: auth.READY,
    METRICS: auth.METRICS,
    ENTRANCE: auth.ENTRANCE,
    FAVICON: auth.ENTRANCE,
    AUDIT: routes_audits.AUDIT,
    AUDIT_JOB: routes_audits.AUDIT,
    CURRENT: auth.READ_CURRENT_PLAN,
    COPY: auth.CLIENT_COPY,
    DISCLOSE: auth.DISCLOSURES,
    ISSUE: auth.ISSUE_CLIENT_ACCESS,
    CSIGN: auth.SIGN,
    BG_REPORT: auth.BREAK_GLASS_REPORT,
    BG_REVIEW: auth.REVIEW_BREAK_GLASS,
    CLIENT_WRITE: auth.REQUEST_AMENDMENT,
}
UNVERSIONED = (CURRENT, COPY, DISCLOSE, ISSUE)
"""Policies whose answers are no plan version (no ETag to check), except the plan itself."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    policy: str
    success: int = 200
    body: dict[str, Any] | None = None
    body_for: dict[str, dict[str, Any]] = field(default_factory=dict)
    csv: str | None = None
    """A CSV body (``text/csv``) instead of ``body``: the audit request's file."""
    fill: dict[str, str] = field(default_factory=dict)
    """path parameter → key of the plan's ids (``=literal`` for a literal value)"""
    fill_for: dict[str, dict[str, str]] = field(default_factory=dict)
    query: str = ""
    open_review: bool = False
    amendment: str = ""
    """The stage an amendment request of the plan must be at (``AMENDMENT_STAGES``)."""

    @property
    def plan_scoped(self) -> bool:
        return "{plan_id}" in self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


P = "/plans/{plan_id}"
WHY = {"rationale": "clinical change agreed in session"}
ROUTES: list[Route] = [
    Route("GET", "/health", HEALTH),
    Route("GET", "/ready", READY),
    Route("GET", "/metrics", METRICS),
    Route("GET", "/", ENTRANCE),
    Route("GET", "/favicon.ico", FAVICON),
    Route("GET", "/me", ME),
    Route("POST", "/plans", OPEN, 201, {
        "client": {"id": "MRN-9", "name": "Robin Vale", "date_of_birth": "1979-02-03"},
        "plan_end_date": "2026-12-01",
    }),
    Route("GET", "/plans", LIST),
    Route("GET", "/reports/copy-forward", LIST),
    Route("GET", "/reports/findings", LIST),
    Route("GET", "/vocabulary/icd-10-cm", LIST, query="?q=anxiety"),
    Route("GET", "/reports/break-glass", BG_REPORT),
    Route("POST", "/reports/break-glass/{seq}/review", BG_REVIEW, 201,
          {"note": "Crisis call out of hours; reason confirmed with the on-call log"},
          fill={"seq": "break_glass_seq"}),
    Route("POST", "/audits", AUDIT, 200,
          {"plan_id": "{plan_id}", "dates_of_service": ["2026-03-05"]}),
    Route("POST", "/audit-requests", AUDIT, 202, csv="mrn,date,cpt\nMRN-NONE,2026-03-05,90837\n"),
    # A job is its requester's alone: polling an unknown one is the same 404 for every role
    # that may make one (test_http_audit_requests walks a job of one's own).
    Route("GET", "/audit-requests/{job_id}", AUDIT_JOB, fill={"job_id": "=unknown"}),
    Route("GET", "/audit-requests/{job_id}/download", AUDIT_JOB, fill={"job_id": "=unknown"}),
    Route("GET", P, CURRENT),
    Route("GET", P + "/client-copy", COPY),
    Route("GET", P + "/disclosures", DISCLOSE),
    Route("POST", P + "/client-access", ISSUE, 201, {"expires_in_days": 7}),
    Route("GET", P + "/client-access", ISSUE),
    Route("POST", P + "/client-access/{grant_id}/revoke", ISSUE, fill={"grant_id": "grant"}),
    Route("GET", P + "/events", READ),
    Route("GET", P + "/revisions", READ),
    Route("GET", P + "/diff", READ, query="?from=1"),
    Route("GET", P + "/reviews", READ),
    Route("GET", P + "/findings", READ),
    Route("GET", P + "/verify", READ),
    Route("GET", P + "/packet", READ, query="?from=2026-01-01&to=2026-12-31"),
    Route("POST", P + "/diagnoses", WRITE, 201, {"code": "F41.1", "description": "GAD"}),
    Route("DELETE", P + "/diagnoses/{code}", WRITE, 200, WHY, fill={"code": "=F32.1"}),
    Route("POST", P + "/problems", WRITE, 201, {"statement": "Poor sleep, 4 h a night"}),
    Route("PATCH", P + "/problems/{item_id}", WRITE, 200,
          {"statement": "Low mood; PHQ-9 15", **WHY}, fill={"item_id": "problem"}),
    Route("POST", P + "/goals", WRITE, 201, {"statement": "Sleep 7 hours"}),
    Route("PATCH", P + "/goals/{item_id}", WRITE, 200, {"status": "achieved", **WHY},
          fill={"item_id": "goal"}),
    Route("POST", P + "/objectives", WRITE, 201,
          {"goal_id": "{goal}", "statement": "Five activities a week"}),
    Route("PATCH", P + "/objectives/{item_id}", WRITE, 200,
          {"statement": "PHQ-9 below 8", **WHY}, fill={"item_id": "objective"}),
    Route("POST", P + "/objectives/{item_id}/status", WRITE, 200,
          {"status": "partially_met", **WHY}, fill={"item_id": "objective"}),
    Route("POST", P + "/interventions", WRITE, 201,
          {"modality": "DBT", "technique": "Distress tolerance", "frequency": "weekly"}),
    Route("PATCH", P + "/interventions/{item_id}", WRITE, 200,
          {"status": "discontinued", **WHY}, fill={"item_id": "intervention"}),
    Route("POST", P + "/measurements", WRITE, 201,
          {"instrument": "PHQ-9", "score": 12, "administered_on": "2026-03-01"}),
    Route("POST", P + "/measurements/{item_id}/void", WRITE, 200, WHY,
          fill={"item_id": "measurement"}),
    Route("POST", P + "/strengths", WRITE, 201, {"text": "Keeps appointments"}),
    Route("POST", P + "/barriers", WRITE, 201, {"text": "No car"}),
    Route("PUT", P + "/timeline", WRITE, 200,
          {"estimated_sessions": 20, "session_frequency": "weekly", **WHY}),
    Route("PUT", P + "/discharge-criteria", WRITE, 200, {"criteria": ["Back at work"], **WHY}),
    Route("PUT", P + "/safety-plan", WRITE, 200,
          {"warning_signs": ["Stops answering texts"], "coping_strategies": ["Walk the dog"],
           "contacts": [{"name": "988", "kind": "crisis_line"}], **WHY}),
    Route("POST", P + "/rationales", SIGN, 200,
          {"text": "Dose of therapy raised", "explains_version": 2},
          body_for={"sam": {"text": "Why weekly?", "explains_version": 2,
                            "kind": "rationale_request"}}),
    Route("POST", P + "/reviews", WRITE, 201, {"reason": "scheduled"}),
    Route("POST", P + "/reviews/{review_id}/complete", WRITE, 200,
          {"assessments": [{"objective_id": "{objective}", "status": "partially_met"}],
           "progress_summary": "PHQ-9 down from 16 to 12"},
          fill={"review_id": "review"}, open_review=True),
    Route("POST", P + "/signatures", CSIGN, 201, {"role": "clinician", "meaning": "reviewed"},
          body_for={"sam": {"role": "supervisor", "meaning": "approved"},
                    "client": {"role": "client", "meaning": "agreed"}}),
    Route("POST", P + "/signatures/{item_id}/revoke", SIGN, 200, {"rationale": "signed in error"},
          fill={"item_id": "signature"},
          fill_for={"sam": {"item_id": "supervisor_signature"}}),
    Route("POST", P + "/signature-requests", WRITE, 201,
          {"role": "supervisor", "meaning": "approved", "signer_id": "sam-okafor"}),
    Route("POST", P + "/discharge", WRITE, 200, {"reason": "Goals met"}),
    Route("POST", P + "/renew", WRITE, 200,
          {"plan_end_date": "2027-02-01", "continuation_reason": "Gains hold; same plan", **WHY}),
    Route("POST", P + "/amendments", CLIENT_WRITE, 201,
          {"concerns": "Problem 1", "requested_change": "Say 'low mood', not 'hopeless'",
           "reason": "I never said hopeless", "received_on": "2026-03-02",
           "requested_by": "Alex Moreno"}),
    Route("POST", P + "/amendments/{amendment_id}/extend", WRITE, 200,
          {"new_due_date": "2026-05-20", "reason": "The intake records are off site"},
          fill={"amendment_id": "amendment"}, amendment="open"),
    Route("POST", P + "/amendments/{amendment_id}/accept", WRITE, 200,
          {"carried_out_in_version": "{int:amendment_revision}", "notified": "The client"},
          fill={"amendment_id": "amendment"}, amendment="revised"),
    Route("POST", P + "/amendments/{amendment_id}/deny", WRITE, 200,
          {"denial_basis": "accurate_and_complete", "denial_text": "The record is accurate."},
          fill={"amendment_id": "amendment"}, amendment="open"),
    Route("POST", P + "/amendments/{amendment_id}/disagreement", CLIENT_WRITE, 200,
          {"statement": "I disagree with the denial."},
          fill={"amendment_id": "amendment"}, amendment="denied"),
    Route("POST", P + "/amendments/{amendment_id}/rebuttal", WRITE, 200,
          {"rebuttal": "The intake note records it."},
          fill={"amendment_id": "amendment"}, amendment="disagreed"),
]  # fmt: skip

AMENDMENT_STAGES = ("open", "revised", "denied", "disagreed")


def prepare_amendment(world_service: Any, ids: dict[str, Any], owner: str, stage: str) -> None:
    """An amendment request of the plan at ``stage``; its id (and revision) into ``ids``."""
    assert stage in AMENDMENT_STAGES
    plan_id = ids["plan_id"]

    def run(command: Any, **fields: Any) -> Any:
        return world_service.execute(plan_id, command, meta(owner, **fields))

    ids["amendment"] = run(
        c.RequestAmendment(
            concerns="Problem 1", item_ids=[ids["problem"]],
            requested_change="Say 'low mood', not 'hopeless'", reason="I never said hopeless",
            received_on=world_service.clock().date(), requested_by="Alex Moreno",
        )
    ).item_id  # fmt: skip
    if stage == "revised":
        ids["amendment_revision"] = run(
            c.ReviseProblem(problem_id=ids["problem"], statement="Low mood; PHQ-9 16 (amended)"),
            entry_kind="amendment", rationale="At the client's request",
        ).version  # fmt: skip
    if stage in ("denied", "disagreed"):
        run(c.DenyAmendment(amendment_id=ids["amendment"], denial_basis="accurate_and_complete",
                            denial_text="The record is accurate."))  # fmt: skip
    if stage == "disagreed":
        run(c.FileDisagreementStatement(amendment_id=ids["amendment"], statement="I disagree."))


# Who calls: the practice's users, one per role, and nobody.
ROLES = {"clinician": "dana", "supervisor": "sam", "auditor": "alex", "admin": "admin",
         "client": "client", "anonymous": None}  # fmt: skip
# "client" holds a client access link to Dana's plan (issued per plan: ``client_token``).
# Which plan: Dana's (Sam supervises her), Marcus's (nobody here supervises him), or none.
TARGETS = ("dana", "marcus", "missing")
RELATION = {
    ("dana", "dana"): "own caseload",
    ("sam", "dana"): "supervisee's",
    ("client", "dana"): "own caseload",  # the client's own plan
}


def relation(who: str | None, target: str) -> str:
    if target == "missing":
        return "nonexistent"
    return RELATION.get((who or "", target), "another clinician's")


OK = "success"
# policy → role → relationship → expected status ("success": the route's own 200/201).
_HIDDEN = {"another clinician's": 404, "nonexistent": 404}
EXPECTED: dict[str, dict[str, dict[str, int | str]]] = {
    READ: {
        "clinician": {"own caseload": 200, **_HIDDEN},
        "supervisor": {"supervisee's": 200, **_HIDDEN},
        "auditor": {"another clinician's": 200, "nonexistent": 404},
        "admin": {"*": 403},
        "client": {"*": 403},
        "anonymous": {"*": 401},
    },
    CURRENT: {
        "clinician": {"own caseload": 200, **_HIDDEN},
        "supervisor": {"supervisee's": 200, **_HIDDEN},
        "auditor": {"another clinician's": 200, "nonexistent": 404},
        "admin": {"*": 403},
        "client": {"own caseload": 200, **_HIDDEN},
        "anonymous": {"*": 401},
    },
    DISCLOSE: {
        "clinician": {"own caseload": 200, **_HIDDEN},
        "supervisor": {"supervisee's": 200, **_HIDDEN},
        "auditor": {"another clinician's": 200, "nonexistent": 404},
        "admin": {"another clinician's": 200, "nonexistent": 404},
        "client": {"own caseload": 200, **_HIDDEN},
        "anonymous": {"*": 401},
    },
    ISSUE: {
        "clinician": {"own caseload": OK, **_HIDDEN},
        "supervisor": {"*": 403},
        "auditor": {"*": 403},
        "admin": {"*": 403},
        "client": {"*": 403},
        "anonymous": {"*": 401},
    },
    CSIGN: {
        "clinician": {"own caseload": OK, **_HIDDEN},
        "supervisor": {"supervisee's": OK, **_HIDDEN},
        "auditor": {"*": 403},
        "admin": {"*": 403},
        "client": {"own caseload": OK, **_HIDDEN},
        "anonymous": {"*": 401},
    },
    CLIENT_WRITE: {
        "clinician": {"own caseload": OK, **_HIDDEN},
        "supervisor": {"*": 403},
        "auditor": {"*": 403},
        "admin": {"*": 403},
        "client": {"own caseload": OK, **_HIDDEN},
        "anonymous": {"*": 401},
    },
    BG_REPORT: {"clinician": {"*": 403}, "supervisor": {"*": 403}, "auditor": {"*": 200},
                "admin": {"*": 200}, "client": {"*": 403}, "anonymous": {"*": 401}},
    BG_REVIEW: {"clinician": {"*": 403}, "supervisor": {"*": 403}, "auditor": {"*": 403},
                "admin": {"*": OK}, "client": {"*": 403}, "anonymous": {"*": 401}},
    WRITE: {
        "clinician": {"own caseload": OK, **_HIDDEN},
        "supervisor": {"*": 403},
        "auditor": {"*": 403},
        "admin": {"*": 403},
        "client": {"*": 403},
        "anonymous": {"*": 401},
    },
    SIGN: {
        "clinician": {"own caseload": OK, **_HIDDEN},
        "supervisor": {"supervisee's": OK, **_HIDDEN},
        "auditor": {"*": 403},
        "admin": {"*": 403},
        "client": {"*": 403},
        "anonymous": {"*": 401},
    },
    OPEN: {"clinician": {"*": OK}, "supervisor": {"*": 403}, "auditor": {"*": 403},
           "admin": {"*": 403}, "client": {"*": 403}, "anonymous": {"*": 401}},
    LIST: {"clinician": {"*": 200}, "supervisor": {"*": 200}, "auditor": {"*": 200},
           "admin": {"*": 403}, "client": {"*": 403}, "anonymous": {"*": 401}},
    ME: {"clinician": {"*": 200}, "supervisor": {"*": 200}, "auditor": {"*": 200},
         "admin": {"*": 200}, "client": {"*": 200}, "anonymous": {"*": 401}},
    HEALTH: {role: {"*": 200} for role in ROLES},
    READY: {role: {"*": 200} for role in ROLES},
    METRICS: {"clinician": {"*": 403}, "supervisor": {"*": 403}, "auditor": {"*": 403},
              "admin": {"*": 200}, "client": {"*": 403}, "anonymous": {"*": 401}},
    ENTRANCE: {role: {"*": 307} for role in ROLES},
    FAVICON: {role: {"*": 204} for role in ROLES},
    # Dates of service of a supervisee's plan; an admin gets the compliance lines too.
    AUDIT: {"clinician": {"*": 403}, "supervisor": {"*": OK}, "auditor": {"*": OK},
            "admin": {"*": OK}, "client": {"*": 403}, "anonymous": {"*": 401}},
    AUDIT_JOB: {"clinician": {"*": 403}, "supervisor": {"*": 404}, "auditor": {"*": 404},
                "admin": {"*": 404}, "client": {"*": 403}, "anonymous": {"*": 401}},
}  # fmt: skip
EXPECTED[COPY] = EXPECTED[CURRENT]  # the client's PDF copy: whoever reads the plan as it stands


def expected(route: Route, role: str, rel: str) -> int:
    cells = EXPECTED[route.policy][role]
    found = cells.get(rel, cells.get("*"))
    assert found is not None, f"no expectation for {route} {role} {rel}"
    return route.success if found == OK else int(found)


def cells() -> Iterator[Any]:
    for route in ROUTES:
        for role in ROLES:
            targets = TARGETS if route.plan_scoped else ("-",)
            for target in targets:
                yield pytest.param(route, role, target, id=f"{route}|{role}|{target}")


@dataclass
class World:
    practice: Practice
    plans: dict[str, dict[str, Any]]


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    pg_database: str | None,
) -> Iterator[World]:  # fmt: skip
    directory = tmp_path_factory.mktemp("matrix")
    url = (
        sqlite_url(directory)
        if request.param == "sqlite"
        else postgres_schema_url(pg_database or "")
    )
    with practice(url, directory) as running:
        plans = {
            "dana": full_plan(running.service, "dana"),
            "marcus": full_plan(running.service, "marcus"),
        }
        for owner in ("dana", "marcus"):  # an open review, for the refused completions
            plans[owner]["review"] = running.service.execute(
                plans[owner]["plan_id"], c.StartReview(reason="scheduled"), meta(owner)
            ).item_id
        for owner in ("dana", "marcus"):
            plans[owner]["grant"], token = client_token(running, plans[owner])
            if owner == "dana":
                running.tokens["client"] = token
        missing = dict(plans["dana"], plan_id=uuid.uuid4())
        plans["missing"] = missing
        yield World(running, plans)


def client_token(running: Practice, ids: dict[str, Any]) -> tuple[str, str]:
    """A client access link to the plan ``ids`` names: (grant id, key)."""
    accounts = running.app.state.plantrail.accounts
    state = running.service.load(ids["plan_id"])
    grant, token = accounts.clients.issue(
        plan_id=ids["plan_id"], client_id=state.client.id, client_name=state.client.name,
        issued_by=state.clinician.user_id,
    )  # fmt: skip
    return grant.grant_id, token


def break_glass_read(running: Practice, ids: dict[str, Any]) -> int:
    """An emergency read of the plan by Marcus, outside his caseload: its access-log number."""
    reason = {"X-Break-Glass-Reason": "Client in crisis at the front desk; on call tonight"}
    response = running.request("marcus", "GET", f"/plans/{ids['plan_id']}", headers=reason)
    assert response.status_code == 200, response.text
    seq: int = running.access_log()[-1]["seq"]
    return seq


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{int:") and value.endswith("}"):
        return int(ids.get(value[5:-1], 1))  # a plan without one: any version will do
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return str(ids[value[1:-1]])
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def call(world: World, route: Route, who: str | None, ids: dict[str, Any]) -> Any:
    params = {"plan_id": str(ids["plan_id"])}
    for name, source in {**route.fill, **route.fill_for.get(who or "", {})}.items():
        params[name] = source[1:] if source.startswith("=") else str(ids.get(source, "none"))
    path = route.path.format(**params) + route.query
    body = route.body_for.get(who or "", route.body)
    kwargs: dict[str, Any] = {"json": _fill(body, ids)} if body is not None else {}
    if route.csv is not None:
        kwargs = {"content": route.csv, "headers": {"Content-Type": "text/csv"}}
    if route.policy == ENTRANCE:
        kwargs["follow_redirects"] = False  # the answer itself: the way to the pages
    return world.practice.request(who, route.method, path, **kwargs)


@pytest.mark.parametrize(("route", "role", "target"), list(cells()))
def test_access(world: World, route: Route, role: str, target: str) -> None:
    who = ROLES[role]
    rel = relation(who, target) if route.plan_scoped else "-"
    want = expected(route, role, rel)
    ids = world.plans.get(target, world.plans["dana"])
    if 200 <= want < 300 and route.plan_scoped and route.method != "GET":
        # An allowed write changes the plan: give it a fresh one of the same caseload.
        ids = full_plan(world.practice.service, target)
        if route.open_review:
            ids["review"] = world.practice.service.execute(
                ids["plan_id"], c.StartReview(reason="scheduled"), meta(target)
            ).item_id
        if route.amendment:
            prepare_amendment(world.practice.service, ids, target, route.amendment)
        ids["grant"], fresh_key = client_token(world.practice, ids)
        if who == "client":
            ids["client_key"] = fresh_key
    if route.policy == BG_REVIEW and 200 <= want < 300:
        ids = dict(ids, break_glass_seq=break_glass_read(world.practice, ids))
    before = world.practice.access_log()[-1]["seq"] if world.practice.access_log() else 0

    own_key = world.practice.tokens.get("client")
    if "client_key" in ids:
        world.practice.tokens["client"] = ids["client_key"]
    try:
        response = call(world, route, who, ids)
    finally:
        world.practice.tokens["client"] = own_key or ""

    assert response.status_code == want, (route, role, target, response.text)
    if want >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == want
    if want == 404 and target != "missing":
        hidden = call(world, route, who, world.plans["missing"])
        assert response.content == hidden.content  # no existence oracle
        # Byte for byte but the request's own id (it names the request, not the plan).
        assert _but_request_id(response.headers) == _but_request_id(hidden.headers)
    if 200 <= want < 300 and route.path.endswith("/packet"):
        # A packet is a document, not a version of the plan: it names its own digest.
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["Packet-Digest"].startswith("sha256:")
    elif 200 <= want < 300 and route.policy == COPY:
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
    elif 200 <= want < 300 and route.plan_scoped and route.policy not in UNVERSIONED[1:]:
        assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    if route.policy in (HEALTH, READY, ENTRANCE, FAVICON):
        return  # public, and touches no record: not logged
    logged = world.practice.access_log(after=before)
    assert logged, "every request leaves an access-log entry"
    # An audit request's job writes entries of its own (method JOB), perhaps before the
    # request's own entry: the request's is the first of another method.
    entry = next(e for e in logged if e["method"] != "JOB")
    assert entry["status"] == want
    if who == "client":
        assert entry["user_id"].startswith("client:")
        assert entry["role"] == "client"
    else:
        assert entry["user_id"] == (USERS[who]["user_id"] if who else None)
    if route.plan_scoped:
        assert entry["plan_id"] == str(ids["plan_id"])
    outcome = {401: "unauthenticated", 403: "denied"}.get(want, "ok")
    if want == 404:
        outcome = "not_found" if target in ("missing", "-") else "denied"
    assert entry["outcome"] == outcome


def _but_request_id(headers: Any) -> dict[str, str]:
    return {k: v for k, v in dict(headers).items() if k.lower() != "x-request-id"}


def test_matrix_covers_every_role_and_relationship() -> None:
    """The table names the four relationships and every role on every plan-scoped route."""
    for route in (r for r in ROUTES if r.plan_scoped):
        relations = {(role, relation(ROLES[role], t)) for role in ROLES for t in TARGETS}
        assert {rel for _, rel in relations} == {
            "own caseload",
            "supervisee's",
            "another clinician's",
            "nonexistent",
        }
        for role, rel in relations:
            expected(route, role, rel)  # raises when the table has no answer


def test_route_inventory(tmp_path: Path) -> None:
    """Every route of the app has exactly one access policy and a row in ``ROUTES`` with it."""
    from plantrail.projections.assembly import open_service
    from plantrail.projections.integrity.keys import create_keys

    create_keys(tmp_path / "keys")
    service = open_service(sqlite_url(tmp_path), tmp_path / "keys")
    try:
        app = create_app(service)
        declared = {(r.method, r.path): POLICIES[r.policy] for r in ROUTES}
        found: dict[tuple[str, str], Any] = {}
        for route in iter_route_contexts(app.routes):
            if not isinstance(route.original_route, APIRoute):
                continue  # the schema and its viewers: public, not records
            policies = [
                d.call for d in _dependencies(route.dependant)
                if isinstance(d.call, auth.RoutePolicy)
            ]  # fmt: skip
            assert len(policies) == 1, f"{route.path} declares {len(policies)} access policies"
            for method in route.methods or ():
                found[(method, route.path)] = policies[0]
        assert set(found) == set(declared), "routes and the access table differ"
        for key, policy in found.items():
            assert policy is declared[key], f"{key} declares {policy.name}"
    finally:
        service.close()


def _dependencies(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)
