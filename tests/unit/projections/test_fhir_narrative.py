"""Every resource carries a generated narrative whose values are escaped, and the catalogue
instruments carry the LOINC codes checked against LOINC's published records (docs/fhir.md)."""

from __future__ import annotations

from fhir.resources.R4B import get_fhir_model_class

from plantrail.projections.fhir.codes import LOINC, instrument_concept
from plantrail.projections.fhir.narrative import with_text


def test_the_narrative_escapes_free_text_and_validates() -> None:
    goal = with_text(
        {
            "resourceType": "Goal",
            "id": "g1",
            "identifier": [{"system": "x", "value": "Goal 1"}],
            "lifecycleStatus": "active",
            "description": {"text": 'Sleep <8h> & "rest" <script>alert(1)</script>'},
            "subject": {"reference": "Patient/p1"},
        }
    )
    assert list(goal)[:3] == ["resourceType", "id", "text"]
    div = goal["text"]["div"]
    assert goal["text"]["status"] == "generated"
    assert div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    assert "<script>" not in div
    assert "&lt;script&gt;" in div
    assert "&amp;" in div
    get_fhir_model_class("Goal").model_validate(goal)


def test_catalogue_instruments_with_a_checked_loinc_code() -> None:
    codes = {
        name: instrument_concept(name).get("coding", [{}])[0].get("code")
        for name in ("PHQ-9", "GAD-7", "AUDIT", "DAST-10", "PCL-5")
    }
    assert codes == {
        "PHQ-9": "44261-6",
        "GAD-7": "70274-6",
        "AUDIT": "75624-7",
        "DAST-10": "82667-7",
        "PCL-5": None,  # no total-score term checked on LOINC's own record: text only
    }
    assert instrument_concept("audit")["coding"][0]["system"] == LOINC
    assert instrument_concept("pcl5") == {"text": "PCL-5"}
