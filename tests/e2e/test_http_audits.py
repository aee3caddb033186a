"""Findings for an instant, a clinical date and a period over HTTP, ``POST /audits`` for dates
of service, and the CLI's ``findings --from/--to`` and ``audit``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from plantrail.domain import commands as c
from plantrail.domain.service import PlanService
from tests.support.clock import FakeClock
from tests.support.http import USERS, Practice, actor
from tests.support.plans import copy_forward_history


def copy_forward_plan(
    service: PlanService, clock: FakeClock, clinician: str, mrn: str
) -> dict[str, Any]:
    """``tests.support.plans.copy_forward_history`` written by one of the practice's clinicians."""
    user = USERS[clinician]
    opening = c.OpenPlan(
        client=c.ClientIn(id=mrn, name="Alex Moreno", date_of_birth=date(1988, 5, 17)),
        clinician=c.ClinicianIn(
            user_id=user["user_id"], name=user["name"], credentials=user["credentials"]
        ),
        plan_end_date=date(2027, 2, 1),
    )
    found = copy_forward_history(service, clock, opening, actor(clinician))
    reviews = {day.isoformat(): review for day, review in found["reviews"].items()}
    return {"plan_id": found["plan_id"], "reviews": reviews, "mrn": mrn}


@pytest.fixture
def plans(running: Practice) -> dict[str, dict[str, Any]]:
    return {
        "dana": copy_forward_plan(running.service, running.clock, "dana", "MRN-7001"),
        "marcus": copy_forward_plan(running.service, running.clock, "marcus", "MRN-7002"),
    }


def copied(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in body["findings"] if f["code"] == "REVIEW_COPIED_FORWARD"]


# ---------------------------------------------------------------------------- findings
def test_period_findings_report_a_copy_forward_that_today_no_longer_shows(
    running: Practice, plans: dict[str, dict[str, Any]]
) -> None:
    plan = plans["dana"]
    path = f"/plans/{plan['plan_id']}/findings"
    now = running.request("dana", "GET", path)
    assert now.status_code == 200
    assert copied(now.json()) == []
    assert "from" not in now.json()
    assert all("dates" not in f for f in now.json()["findings"])

    period = running.request("dana", "GET", path, params={"from": "2026-04-01", "to": "2026-07-31"})

    assert period.status_code == 200, period.text
    body = period.json()
    assert (body["from"], body["to"]) == ("2026-04-01", "2026-07-31")
    # Each run is worded as on its own days (its last day's message).
    assert all(run["message"] for f in copied(body) for run in f["dates"])
    runs = lambda f: [{"from": r["from"], "to": r["to"]} for r in f["dates"]]  # noqa: E731
    assert [(f["item_id"], runs(f), f["first_held"], f["last_held"]) for f in copied(body)] == [
        (plan["reviews"]["2026-05-01"], [{"from": "2026-05-01", "to": "2026-07-29"}],
         "2026-05-01", "2026-07-29"),
        (plan["reviews"]["2026-07-30"], [{"from": "2026-07-30", "to": "2026-07-31"}],
         "2026-07-30", "2026-07-31"),
    ]  # fmt: skip
    entry = running.access_log(plan_id=str(plan["plan_id"]))[-1]
    assert entry["action"] == "view:findings"


def test_findings_as_of_an_instant_and_on_a_clinical_date(
    running: Practice, plans: dict[str, dict[str, Any]]
) -> None:
    plan_id = plans["dana"]["plan_id"]
    path = f"/plans/{plan_id}/findings"
    june = running.request("alex", "GET", path, params={"as_of": "2026-06-01T12:00:00Z"})
    assert june.status_code == 200, june.text
    assert [f["item_id"] for f in copied(june.json())] == [plans["dana"]["reviews"]["2026-05-01"]]
    assert june.headers["ETag"] == f'"{june.json()["version"]}"'
    on_day = running.request("alex", "GET", path, params={"effective_on": "2026-08-15"})
    assert [f["item_id"] for f in copied(on_day.json())] == [plans["dana"]["reviews"]["2026-07-30"]]
    before = running.request("alex", "GET", path, params={"as_of": "2026-01-01T00:00:00Z"})
    assert before.status_code == 404
    assert before.headers["content-type"].startswith("application/problem+json")
    combined = running.request(
        "alex", "GET", path,
        params={"as_of": "2026-06-01T12:00:00Z", "from": "2026-04-01", "to": "2026-07-31"},
    )  # fmt: skip
    assert combined.status_code == 200
    # Recorded by 1 June: the July review was not yet in the record.
    assert [f["item_id"] for f in copied(combined.json())] == [
        plans["dana"]["reviews"]["2026-05-01"]
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-07-01", "to": "2026-04-01"}, "to"),
        ({"from": "2026-04-01"}, "to"),
        ({"from": "2026-04-01", "to": "2026-05-01", "effective_on": "2026-04-10"}, "effective_on"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
        ({"effective_on": "2026-02-30"}, "effective_on"),
        ({"as_of": "2026-06-01"}, "as_of"),
    ],
)
def test_bad_findings_parameters_are_422_problems(
    running: Practice, plans: dict[str, dict[str, Any]], params: dict[str, str], field: str
) -> None:
    for path in (f"/plans/{plans['dana']['plan_id']}/findings", "/reports/findings"):
        found = running.request("alex", "GET", path, params=params)
        assert found.status_code == 422, (path, found.text)
        assert found.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in found.json()["errors"]}


def test_the_caseload_findings_report_over_a_period_keeps_each_callers_reach(
    running: Practice, plans: dict[str, dict[str, Any]]
) -> None:
    params = {"from": "2026-04-01", "to": "2026-07-31"}
    mine = running.request("sam", "GET", "/reports/findings", params=params)
    assert mine.status_code == 200, mine.text
    assert {f["plan_id"] for f in mine.json()["findings"]} == {str(plans["dana"]["plan_id"])}
    everyone = running.request("alex", "GET", "/reports/findings", params=params).json()
    assert {f["plan_id"] for f in copied(everyone)} == {
        str(plans["dana"]["plan_id"]),
        str(plans["marcus"]["plan_id"]),
    }
    assert all(f["dates"] for f in everyone["findings"])
    plain = running.request("alex", "GET", "/reports/findings").json()
    assert "from" not in plain


# ------------------------------------------------------------------------------ audits
def audit(running: Practice, who: str, body: dict[str, Any]) -> Any:
    return running.request(who, "POST", "/audits", json=body)


DATES = ["2026-02-23", {"date": "2026-03-05", "cpt_codes": ["90837"]}, "2026-03-16"]


@pytest.mark.parametrize("who", ["alex", "sam", "admin"])
def test_an_audit_answers_one_line_per_date_of_service(
    running: Practice, plans: dict[str, dict[str, Any]], who: str
) -> None:
    plan_id = str(plans["dana"]["plan_id"])
    found = audit(running, who, {"plan_id": plan_id, "dates_of_service": DATES})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["plan_ids"] == [plan_id]
    before, unsigned, covered = body["lines"]
    assert before["plan_id"] is None
    assert before["ok"] is False
    assert unsigned["cpt_codes"] == ["90837"]
    assert unsigned["clinician_signature"]["signed"] is False
    assert "NOT signed by the clinician" in unsigned["summary"]
    assert covered["ok"] is True, covered["summary"]
    assert covered["clinician_signature"]["credentials"] == "LCSW"
    entry = running.access_log(plan_id=plan_id)[-1]
    assert (entry["action"], entry["outcome"]) == ("audit:dates-of-service", "ok")


def test_an_audit_by_client_mrn_and_as_of(
    running: Practice, plans: dict[str, dict[str, Any]]
) -> None:
    found = audit(
        running,
        "alex",
        {
            "client_id": "MRN-7001",
            "dates_of_service": ["2026-05-20"],
            "as_of": "2026-03-09T12:00:00Z",
        },
    )
    assert found.status_code == 200, found.text
    [line] = found.json()["lines"]
    assert found.json()["plan_ids"] == [str(plans["dana"]["plan_id"])]
    # Recorded by 9 March: signed by the clinician, not yet by the client.
    assert line["clinician_signature"]["signed"] is True
    assert line["client_signature"]["signed"] is False
    assert line["ok"] is False


def test_a_clinician_may_not_run_an_audit(
    running: Practice, plans: dict[str, dict[str, Any]]
) -> None:
    body = {"plan_id": str(plans["dana"]["plan_id"]), "dates_of_service": DATES}
    found = audit(running, "dana", body)
    assert found.status_code == 403
    assert found.headers["content-type"].startswith("application/problem+json")


def test_a_plan_or_client_out_of_a_supervisors_reach_is_unknown(
    running: Practice, plans: dict[str, dict[str, Any]]
) -> None:
    other = str(plans["marcus"]["plan_id"])
    unknown = "00000000-0000-4000-8000-000000000000"
    out_of_reach = audit(running, "sam", {"plan_id": other, "dates_of_service": DATES})
    not_there = audit(running, "sam", {"plan_id": unknown, "dates_of_service": DATES})
    assert out_of_reach.status_code == not_there.status_code == 404
    assert out_of_reach.json()["detail"] == not_there.json()["detail"]
    by_client = audit(running, "sam", {"client_id": "MRN-7002", "dates_of_service": DATES})
    no_client = audit(running, "sam", {"client_id": "MRN-0000", "dates_of_service": DATES})
    assert by_client.status_code == no_client.status_code == 404
    assert by_client.json() == no_client.json()
    assert running.access_log(plan_id=other)[-1]["outcome"] == "denied"


@pytest.mark.parametrize(
    "body",
    [
        {"dates_of_service": ["2026-03-05"]},
        {"plan_id": "{plan}", "client_id": "MRN-7001", "dates_of_service": ["2026-03-05"]},
        {"plan_id": "{plan}", "dates_of_service": []},
        {"plan_id": "{plan}", "dates_of_service": ["2026-13-05"]},
        {"plan_id": "{plan}", "dates_of_service": [{"date": "2026-03-05", "cpt_codes": ["9"]}]},
        {"plan_id": "{plan}", "dates_of_service": ["2026-03-05"] * 1001},
        {"plan_id": "{plan}", "dates_of_service": ["2026-03-05"], "as_of": "2026-03-05"},
        {"plan_id": "{plan}", "dates_of_service": ["2026-03-05"], "extra": 1},
    ],
)
def test_bad_audit_requests_are_422_problems(
    running: Practice, plans: dict[str, dict[str, Any]], body: dict[str, Any]
) -> None:
    filled = {k: (str(plans["dana"]["plan_id"]) if v == "{plan}" else v) for k, v in body.items()}
    found = audit(running, "alex", filled)
    assert found.status_code == 422, found.text
    assert found.headers["content-type"].startswith("application/problem+json")


# --------------------------------------------------------------------------------- CLI
def cli(running: Practice, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PLANTRAIL_DATABASE_URL": running.url, "COLUMNS": "200"}
    env["PLANTRAIL_KEY_DIR"] = str(running.keys)
    return subprocess.run(
        [sys.executable, "-m", "plantrail.api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_findings_over_a_period_and_audit_lines(
    running: Practice, plans: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    plan_id = str(plans["dana"]["plan_id"])
    table = cli(running, "findings", plan_id, "--from", "2026-04-01", "--to", "2026-07-31")
    assert table.returncode == 0, table.stderr
    assert "REVIEW_COPIED_FORWARD" in table.stdout
    assert "2026-05-01–2026-07-29" in table.stdout
    period = cli(
        running, "findings", plan_id, "--from", "2026-04-01", "--to", "2026-07-31", "--json"
    )
    found = json.loads(period.stdout)
    assert {f["code"] for f in found} >= {"REVIEW_COPIED_FORWARD"}
    dated = cli(running, "findings", plan_id, "--effective-on", "2026-08-15", "--json")
    assert "REVIEW_COPIED_FORWARD" in {f["code"] for f in json.loads(dated.stdout)}

    dates = tmp_path / "dates.txt"
    dates.write_text("2026-02-23 90791\n2026-03-16, 90837\n", encoding="utf-8")
    lines = cli(running, "audit", "--client", "MRN-7001", "--dates", str(dates), "--json")
    assert lines.returncode == 0, lines.stderr
    first, second = json.loads(lines.stdout)["lines"]
    assert (first["ok"], second["ok"]) == (False, True)
    shown = cli(running, "audit", "--plan", plan_id, "--dates", "2026-03-16,2026-03-05")
    assert shown.returncode == 0, shown.stderr
    assert "NOT signed by the clinician" in shown.stdout


def test_cli_refuses_bad_input_with_one_line(
    running: Practice, plans: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    plan_id = str(plans["dana"]["plan_id"])
    backwards = cli(running, "findings", plan_id, "--from", "2026-07-01", "--to", "2026-04-01")
    assert backwards.returncode != 0
    assert "before it starts" in backwards.stderr
    assert "Traceback" not in backwards.stderr
    dates = tmp_path / "dates.txt"
    dates.write_text("2026-03-16\nnext tuesday\n", encoding="utf-8")
    bad = cli(running, "audit", "--plan", plan_id, "--dates", str(dates))
    assert bad.returncode != 0
    assert "line 2" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
