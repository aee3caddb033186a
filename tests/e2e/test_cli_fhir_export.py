"""``plantrail export --fhir DIR`` as an integrating engineer runs it on the demo caseload:
one NDJSON file per resource type and a manifest, in the shape of FHIR Bulk Data export, every
line a valid R4B resource, each plan's collection Bundle self-contained; ``--plan`` narrows it;
a file in place of the folder is one readable error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import plantrail
from tests.support.fhir import unresolved, validate

Store = tuple[str, Path, list[dict[str, str]]]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_caseload_exports_as_bulk_data_files_that_validate(
    demo_store: Store, tmp_path: Path
) -> None:
    db, keys, plans = demo_store
    out = tmp_path / "fhir"
    printed = plantrail("export", "--fhir", str(out), "--bundles", db=db, keys=keys)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["requiresAccessToken"] is False
    assert manifest["request"] == "http://127.0.0.1:8000/fhir/$export"
    assert manifest["transactionTime"].endswith("Z")
    for output in manifest["output"]:
        assert output["url"] == (out.resolve() / f"{output['type']}.ndjson").as_uri()
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts["CarePlan"] == counts["Bundle"] == counts["Patient"] == len(plans)
    assert f"exported {len(plans)} plans" in printed.stderr
    for kind, count in counts.items():
        lines = _lines(out / f"{kind}.ndjson")
        assert len(lines) == count
        ids = [line["id"] for line in lines]
        assert len(set(ids)) == len(ids), f"{kind}: each resource once"
        for resource in lines:
            assert resource["resourceType"] == kind
            validate(resource)
    for bundle in _lines(out / "Bundle.ndjson"):
        assert bundle["type"] == "collection"
        assert unresolved(bundle) == [], "self-contained: every reference names an entry"


def test_one_plan_and_a_file_in_place_of_the_folder(demo_store: Store, tmp_path: Path) -> None:
    db, keys, plans = demo_store
    riley = next(p for p in plans if p["client"] == "Riley Chen")
    out = tmp_path / "one"
    plantrail("export", "--fhir", str(out), "--plan", riley["client_id"], db=db, keys=keys)
    [care_plan] = _lines(out / "CarePlan.ndjson")
    assert care_plan["id"] == riley["plan_id"]
    assert not (out / "Bundle.ndjson").exists(), "Bundles only with --bundles"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["request"].endswith(f"$export?_typeFilter=CarePlan%3F_id%3D{riley['plan_id']}")
    taken = tmp_path / "taken.txt"
    taken.write_text("not a folder")
    refused = plantrail("export", "--fhir", str(taken), db=db, keys=keys, check=False)
    assert refused.returncode == 2
    assert "give a folder" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert taken.read_text() == "not a folder"


def test_a_denied_amendment_is_exported_as_a_task(demo_store: Store, tmp_path: Path) -> None:
    db, keys, plans = demo_store
    jordan = next(p for p in plans if p["client"] == "Jordan Ellis")
    out = tmp_path / "fhir"
    plantrail(
        "export", "--fhir", str(out), "--plan", jordan["client_id"], "--bundles", db=db, keys=keys
    )
    [task] = _lines(out / "Task.ndjson")
    validate(task)
    assert task["status"] == "rejected"
    assert task["focus"]["reference"] == f"CarePlan/{jordan['plan_id']}"
    notes = " ".join(n["text"] for n in task["note"])
    assert "Statement of disagreement: I disagree. In 2019 I was grieving my father" in notes
    assert "Rebuttal: Bereavement was considered at intake" in notes
    [bundle] = _lines(out / "Bundle.ndjson")
    assert any(e["resource"]["resourceType"] == "Task" for e in bundle["entry"])
    assert unresolved(bundle) == []
