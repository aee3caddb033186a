"""Packaging and the names written into the database forever (ADR 0001, ADR 0002).

The three top-level folders must install as ``plantrail.*``; every sub-package must be listed
for the wheel (an editable install hides a missing one); a bare ``import domain`` must fail
loudly; event topics and the application name must never change.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from plantrail.domain.events import EVENT_CLASSES
from plantrail.domain.service import PlanService
from plantrail.projections.store import schema

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {
    "domain": "plantrail.domain",
    "projections": "plantrail.projections",
    "api": "plantrail.api",
}

STORED_TOPICS = [
    "plantrail:PlanOpened",
    "plantrail:DiagnosisAdded",
    "plantrail:DiagnosisRemoved",
    "plantrail:ProblemAdded",
    "plantrail:ProblemRevised",
    "plantrail:ProblemResolved",
    "plantrail:GoalAdded",
    "plantrail:GoalRevised",
    "plantrail:GoalStatusMarked",
    "plantrail:ObjectiveAdded",
    "plantrail:ObjectiveRevised",
    "plantrail:ObjectiveStatusMarked",
    "plantrail:InterventionAdded",
    "plantrail:InterventionRevised",
    "plantrail:InterventionDiscontinued",
    "plantrail:MeasurementRecorded",
    "plantrail:MeasurementVoided",
    "plantrail:StrengthNoted",
    "plantrail:BarrierNoted",
    "plantrail:TimelineSet",
    "plantrail:DischargeCriteriaSet",
    "plantrail:RationaleRecorded",
    "plantrail:ReviewStarted",
    "plantrail:ReviewCompleted",
    "plantrail:SignatureRequested",
    "plantrail:SignatureCaptured",
    "plantrail:SignatureRevoked",
    "plantrail:PlanDischarged",
    "plantrail:AmendmentRequested",
    "plantrail:AmendmentDeadlineExtended",
    "plantrail:AmendmentAccepted",
    "plantrail:AmendmentDenied",
    "plantrail:DisagreementStatementFiled",
    "plantrail:RebuttalFiled",
    "plantrail:SafetyPlanSet",
    "plantrail:PlanRenewed",
]
"""Every topic ever written: append new ones, never edit or remove one (stored events use them)."""


def _declared_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def _package_folders() -> set[str]:
    found = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            found.add(".".join([name, *relative.parts]))
    return found


def test_every_package_folder_is_declared_for_the_wheel() -> None:
    assert _package_folders() == _declared_packages()


def test_stored_topics_never_change() -> None:
    assert [cls.TOPIC for cls in EVENT_CLASSES] == STORED_TOPICS


def test_application_and_table_names_are_pinned() -> None:
    assert PlanService.name == "plantrail"
    assert {schema.events.name, schema.commands.name, schema.snapshots.name} == {
        "plantrail_events",
        "plantrail_commands",
        "plantrail_snapshots",
    }


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_bare_folder_import_fails_with_a_clear_message(folder: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {folder}"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert f"plantrail.{folder}" in result.stderr


@pytest.mark.slow
def test_wheel_ships_every_package_under_plantrail(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("plantrail-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"plantrail"}
    shipped = {".".join(Path(name).parent.parts) for name in names if name.endswith("/__init__.py")}
    assert shipped == _declared_packages()
    assert all(f"plantrail/{folder}/py.typed" in names for folder in FOLDERS)
    # The schema's upgrade steps run from the installed package (ADR 0019): Alembic's env.py
    # and every step file are in the wheel, and no alembic.ini is needed.
    migrations = ROOT / "projections" / "migrations"
    for path in [migrations / "env.py", *sorted((migrations / "versions").glob("v*.py"))]:
        assert f"plantrail/{path.relative_to(ROOT).as_posix()}" in names
