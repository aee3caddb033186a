"""docs/projections.md documents every finding code and every rule-profile setting."""

from __future__ import annotations

from pathlib import Path

from plantrail.projections.findings import FINDINGS
from plantrail.projections.profile import RuleProfile

DOC = (Path(__file__).resolve().parents[2] / "docs" / "projections.md").read_text()


def test_every_finding_code_has_a_section_with_its_severity() -> None:
    for code, kind in FINDINGS.items():
        heading = f"### `{code}`"
        assert heading in DOC, code
        section = DOC.split(heading, 1)[1].split("### ", 1)[0]
        assert f"**{kind.severity}**" in section, code


def test_no_section_names_a_code_that_no_longer_exists() -> None:
    documented = {line[5:-1] for line in DOC.splitlines() if line.startswith("### `")}
    assert documented == set(FINDINGS)


def test_every_profile_setting_is_documented() -> None:
    for name in RuleProfile.model_fields:
        assert f"| `{name}` |" in DOC, name
