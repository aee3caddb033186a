"""``plantrail audit-request`` as a practice runs it for an auditor: the real console script in
a subprocess against a demo store (SQLite, and PostgreSQL when configured). Forty claims and
three bad rows give a zip with 43 summary lines, the cover letter and a packet per plan, each
packet verifying with ``plantrail verify-packet``; the access log holds one entry per packet;
the zip is private to its owner; a file that is not CSV is refused with one readable line."""

from __future__ import annotations

import csv
import io
import json
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from tests.integration.test_audit_request import forty_claims
from tests.support.cli import plantrail

Demo = tuple[str, Path, list[dict[str, str]]]


def test_a_forty_claim_request_on_the_command_line(demo_store: Demo, tmp_path: Path) -> None:
    db, keys, plans = demo_store
    request = tmp_path / "request.csv"
    request.write_text(forty_claims([p["client_id"] for p in plans], datetime.now(UTC).date()))
    out = tmp_path / "answer.zip"
    result = plantrail(
        "audit-request", str(request), "-o", str(out), "--practice", "Harbor", db=db, keys=keys
    )
    assert "43 claims" in result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    archive = zipfile.ZipFile(out)
    lines = list(csv.DictReader(io.StringIO(archive.read("summary.csv").decode())))
    assert len(lines) == 43
    assert all(line["verdict"] in ("OK", "NOT OK") for line in lines[:40])
    packets = [n for n in archive.namelist() if n.startswith("packets/")]
    assert packets
    assert {line["packet"] for line in lines if line["packet"]} == set(packets)
    for name in packets:
        pdf = tmp_path / Path(name).name
        pdf.write_bytes(archive.read(name))
        assert "matches the record" in plantrail("verify-packet", str(pdf), db=db, keys=keys).stdout
    log = json.loads(plantrail("access-log", "--json", db=db, keys=keys).stdout)
    rows = log["entries"] if isinstance(log, dict) else log
    made = [r for r in rows if r["route"] == "plantrail audit-request"]
    assert len([r for r in made if str(r["action"]).startswith("packet:")]) == len(packets)

    again = plantrail("audit-request", str(request), "-o", str(out), db=db, keys=keys, check=False)
    assert again.returncode != 0
    assert "--force" in again.stderr


def test_a_file_that_is_not_csv_is_refused(demo_store: Demo, tmp_path: Path) -> None:
    db, keys, _ = demo_store
    letter = tmp_path / "letter.txt"
    letter.write_text("Dear practice, please send us everything.\n")
    result = plantrail(
        "audit-request", str(letter), "-o", str(tmp_path / "a.zip"), db=db, keys=keys, check=False
    )
    assert result.returncode != 0
    assert "no readable claim" in result.stderr
    assert not (tmp_path / "a.zip").exists()
