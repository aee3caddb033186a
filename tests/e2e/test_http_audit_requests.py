"""``POST /audit-requests`` as an auditor uses it: the CSV posted, the job polled, the zip
downloaded (on both stores). Forty claims and three bad rows give 43 summary lines and a
packet per plan, each verifying against the record; each packet is its own access-log entry;
only the user who asked sees the job; a body that is not CSV is refused before any job."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from typing import Any

from plantrail.api.demo import load_demo
from plantrail.api.packet.service import verify_packet
from tests.integration.test_audit_request import forty_claims
from tests.support.http import Practice

CSV = {"Content-Type": "text/csv"}


def _finished(running: Practice, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        progress = running.request("alex", "GET", location)
        assert progress.status_code == 200, progress.text
        found: dict[str, Any] = progress.json()
        if found["status"] in ("done", "failed"):
            return found
        time.sleep(0.2)
    raise AssertionError("the audit request did not finish")


def test_a_forty_claim_request_as_a_job(running: Practice) -> None:
    plans = load_demo(running.service)
    body = forty_claims([p.client_id for p in plans], running.clock().date())
    submitted = running.request("alex", "POST", "/audit-requests", content=body, headers=CSV)
    assert submitted.status_code == 202, submitted.text
    location = submitted.headers["Location"]
    assert location == submitted.json()["location"] == f"/audit-requests/{submitted.json()['id']}"
    assert submitted.json()["claims"] == 43

    # Another user, even one who may run audits, does not see the job; a clinician may not.
    assert running.request("sam", "GET", location).status_code == 404
    assert running.request("sam", "GET", location + "/download").status_code == 404
    assert running.request("dana", "GET", location).status_code == 403

    progress = _finished(running, location)
    assert progress["status"] == "done", progress
    assert progress["done"] == progress["total"] >= 4
    assert sum(progress["verdicts"].values()) == 43
    assert progress["download"] == location + "/download"

    download = running.request("alex", "GET", progress["download"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    lines = list(csv.DictReader(io.StringIO(archive.read("summary.csv").decode())))
    assert len(lines) == 43
    assert all(line["verdict"] in ("OK", "NOT OK") for line in lines[:40])
    packets = [n for n in archive.namelist() if n.startswith("packets/")]
    assert len(packets) == progress["total"]
    for name in packets:
        check = verify_packet(running.service, archive.read(name), running.service.events_of)
        assert check.matches, check.problems

    job = [e for e in running.access_log() if e["route"] == location and e["method"] == "JOB"]
    assert len([e for e in job if e["action"].startswith("packet:")]) == len(packets)
    assert all(e["user_id"] == "alex-kim" for e in job)
    assert running.verify_access_log()


def test_a_body_that_is_not_a_csv_request_is_refused(running: Practice) -> None:
    as_json = running.request("alex", "POST", "/audit-requests", json={"claims": []})
    assert as_json.status_code == 415
    letter = running.request(
        "alex", "POST", "/audit-requests", content="Dear practice,\nsend it all", headers=CSV
    )
    assert letter.status_code == 422
    assert "no readable claim" in letter.text
    assert running.request("alex", "GET", "/audit-requests/nope").status_code == 404
