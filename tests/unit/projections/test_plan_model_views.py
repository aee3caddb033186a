"""The 0.2.0 plan model (ADR 0014) in the read side: what a maintain objective's breach, a
confirmed or reopened objective and a safety plan look like in findings, the review history, the
plan document as it stood, the diff, the revision log and the review page's chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from plantrail.api.rendering.charts import measure_chart
from plantrail.domain import commands as c
from plantrail.projections import fhir
from plantrail.projections.diff import plan_diff
from plantrail.projections.document import plan_document
from plantrail.projections.fhir.ids import fhir_id
from plantrail.projections.findings import plan_findings
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import review_history
from plantrail.projections.revisions import revision_log
from tests.support.fhir import validate
from tests.support.histories import PlanBuilder, complete_review, depression_plan
from tests.unit.domain.test_plan_model import safety_plan

SVG = "{http://www.w3.org/2000/svg}"


def with_maintain_objective() -> tuple[PlanBuilder, dict[str, str]]:
    b, ids = depression_plan()
    ids["keep"] = b.add(
        c.AddObjective(
            goal_id=ids["goal1"],
            statement="PHQ-9 stays at 4 or below once remitted.",
            measure={
                "instrument": "PHQ-9",
                "baseline": 3,
                "direction": "maintain",
                "threshold": 4,
                "keep": "at_most",
            },
        ),
        rationale="Relapse prevention",
    )
    return b, ids


def score(b: PlanBuilder, objective_id: str, value: float) -> str:
    return b.add(
        c.RecordMeasurement(
            instrument="PHQ-9", score=value, administered_on=b.today, objective_id=objective_id
        )
    )


def findings(b: PlanBuilder, code: str) -> list[dict[str, Any]]:
    return [
        f for f in plan_findings(b.state, b.events, RuleProfile(), b.today) if f["code"] == code
    ]


# ------------------------------------------------------------------------------ maintain
def test_a_breaching_score_is_a_finding_until_the_next_score_is_back_in_range() -> None:
    b, ids = with_maintain_objective()
    b.advance(days=7)
    score(b, ids["keep"], 3)
    assert findings(b, "MAINTAIN_THRESHOLD_BREACHED") == []
    b.advance(days=7)
    score(b, ids["keep"], 7)
    [breach] = findings(b, "MAINTAIN_THRESHOLD_BREACHED")
    assert breach["item_id"] == ids["keep"]
    assert "kept at most 4 PHQ-9" in breach["message"]
    assert "scored 7" in breach["message"]
    # a maintain objective has a threshold, which is its target: no "without target" finding
    assert ids["keep"] not in {f["item_id"] for f in findings(b, "OBJECTIVE_WITHOUT_TARGET")}
    b.advance(days=7)
    score(b, ids["keep"], 4)
    assert findings(b, "MAINTAIN_THRESHOLD_BREACHED") == []


def test_a_met_maintain_objective_still_shows_its_breach() -> None:
    b, ids = with_maintain_objective()
    b.run(c.MarkObjectiveStatus(objective_id=ids["keep"], status="met"), rationale="Remitted")
    b.advance(days=3)
    score(b, ids["keep"], 9)
    [breach] = findings(b, "MAINTAIN_THRESHOLD_BREACHED")
    assert "(met)" in breach["message"]


def test_the_review_history_names_the_breaching_scores() -> None:
    b, ids = with_maintain_objective()
    b.advance(days=10)
    score(b, ids["keep"], 2)
    b.advance(days=10)
    breaching = score(b, ids["keep"], 6)
    b.advance(days=1)
    complete_review(b, "Slipped after the anniversary of the layoff.")
    [review] = review_history(b.events)
    [phq9] = [i for i in review["measurements"]["instruments"] if i["instrument"] == "PHQ-9"]
    [held] = [o for o in phq9["objectives"] if o["objective_id"] == ids["keep"]]
    label = b.state.measurements[breaching].label
    assert (held["threshold"], held["keep"], held["breaches"]) == (4, "at_most", [label])
    assert held["target_reached"] is False


def test_the_chart_marks_breaches_and_says_so() -> None:
    objective = {
        "id": "o-keep",
        "label": "Objective 1.3",
        "statement": "PHQ-9 stays at 4 or below.",
        "measure": {
            "instrument": "PHQ-9",
            "baseline": 3,
            "target": None,
            "direction": "maintain",
            "threshold": 4,
            "keep": "at_most",
            "unit": None,
        },
        "target_date": None,
    }
    rows = [("2026-02-01", 3), ("2026-03-01", 6), ("2026-04-01", 4)]
    measurements = [
        {
            "id": f"m{n}",
            "label": f"Measurement {n}",
            "instrument": "PHQ-9",
            "score": value,
            "administered_on": day,
            "objective_id": "o-keep",
            "recorded_at": f"{day}T09:00:00Z",
            "voided": False,
        }
        for n, (day, value) in enumerate(rows, 1)
    ]
    figure = ET.fromstring(str(measure_chart(objective, measurements)))
    desc = "".join(next(figure.iter(f"{SVG}desc")).itertext())
    assert "Keep at most 4: 1 of 3 scores breached the threshold (2026-03-01)" in desc
    assert "latest score is within the range" in desc
    breached = [c for c in figure.iter(f"{SVG}circle") if "mc-breach" in (c.get("class") or "")]
    assert len(breached) == 1
    assert "breaches the threshold" in "".join(breached[0].itertext())
    cells = ["".join(td.itertext()) for td in figure.iter("td")]
    assert "6 (breach)" in cells
    assert any("threshold 4" in "".join(t.itertext()) for t in figure.iter(f"{SVG}text"))


# ------------------------------------------------------------------- every objective
def test_the_review_history_shows_a_confirmed_and_a_reopened_objective() -> None:
    b, ids = depression_plan()
    complete_review(b, "Both met.", {ids["objective11"]: "met", ids["objective12"]: "met"})
    b.advance(days=30)
    review_id = b.add(c.StartReview(reason="crisis"))
    b.run(
        c.CompleteReview(
            review_id=review_id,
            assessments=[
                c.AssessmentIn(objective_id=ids["objective11"], status="met"),
                c.AssessmentIn(
                    objective_id=ids["objective12"],
                    status="not_met",
                    rationale="Stopped all activities after the breakup",
                ),
                *(
                    c.AssessmentIn(objective_id=o.id, status="partially_met")
                    for o in b.state.objectives.values()
                    if o.id not in (ids["objective11"], ids["objective12"])
                ),
            ],
            progress_summary="Mood held; activities stopped.",
        )
    )
    _, second = review_history(b.events)
    outcomes = {a["label"]: (a["outcome"], a["previous_status"]) for a in second["assessments"]}
    assert outcomes == {
        "Objective 1.1": ("confirmed", "met"),
        "Objective 1.2": ("reopened", "met"),
        "Objective 2.1": ("assessed", "partially_met"),
    }
    [entry] = [r for r in revision_log(b.events) if r["version"] == b.state.version]
    assert "Objective 1.1 confirmed met" in entry["summary"]
    assert "Objective 1.2 reopened as not met (was met)" in entry["summary"]


# ------------------------------------------------------------------------ safety plan
def test_the_safety_plan_is_in_the_document_as_it_stood_the_diff_and_the_log() -> None:
    b, _ = depression_plan()
    before = b.state.version
    b.advance(days=1)
    b.run(safety_plan())
    doc = plan_document(b.state)
    assert doc["safety_plan"]["contacts"][1]["name"] == "988 Suicide and Crisis Lifeline"
    assert plan_document(b.at(before))["safety_plan"] is None  # not there at the earlier version
    set_at = b.state.version
    b.advance(days=1)
    b.run(
        safety_plan(means_restriction=["Firearm stored at brother's house"]),
        rationale="Firearm disclosed",
    )
    changes = plan_diff(b.at(set_at), b.state)["changes"]
    [change] = [ch for ch in changes if ch["path"].startswith("safety_plan")]
    assert change["path"] == "safety_plan.means_restriction"
    assert change["after"] == ["Firearm stored at brother's house"]
    added = plan_diff(b.at(before), b.at(set_at))["changes"]
    assert [ch["summary"] for ch in added if ch["path"] == "safety_plan"] == [
        "Safety plan set: 2 warning signs, 1 coping strategies, 2 contacts, "
        "1 means restriction steps"
    ]
    log = revision_log(b.events)
    assert log[-1]["summary"].startswith("Safety plan revised")
    assert log[-2]["summary"].startswith("Safety plan set")


def test_a_suicidal_ideation_diagnosis_without_a_safety_plan_is_an_error_finding() -> None:
    b, _ = depression_plan()
    assert findings(b, "SAFETY_PLAN_MISSING") == []
    b.run(c.AddDiagnosis(code="R45.851", description="Suicidal ideations"))
    [missing] = findings(b, "SAFETY_PLAN_MISSING")
    assert missing["severity"] == "error"
    assert "R45.851" in missing["message"]
    b.run(safety_plan())
    assert findings(b, "SAFETY_PLAN_MISSING") == []


def test_fhir_carries_the_safety_plan_and_a_maintain_objective_as_a_range() -> None:
    b, ids = with_maintain_objective()
    b.run(safety_plan())
    resources = fhir.plan_resources(b.state, b.events)
    for resource in resources:
        validate(resource)
    [care_plan] = [r for r in resources if r["resourceType"] == "CarePlan"]
    notes = [n["text"] for n in care_plan["note"]]
    assert "Safety plan contact: 988 Suicide and Crisis Lifeline (crisis line), 988" in notes
    assert "Safety plan means restriction: Medication kept by partner" in notes
    goals = [r for r in resources if r["resourceType"] == "Goal"]
    [goal] = [r for r in goals if r["id"] == fhir_id(ids["keep"])]
    assert goal["target"][0]["detailRange"] == {"high": {"value": 4}}
    assert "detailQuantity" not in goal["target"][0]
    assert "Baseline 3 (PHQ-9); to be kept at most 4." in [n["text"] for n in goal["note"]]
