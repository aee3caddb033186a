"""Audit findings: each one raised by the situation it names and cleared by its remedy."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from plantrail.domain import commands as c
from plantrail.projections.document import RENEWAL_NOTE, due_row, next_due, plan_document
from plantrail.projections.findings import FINDINGS, plan_findings
from plantrail.projections.profile import RuleProfile
from tests.support.histories import (
    PlanBuilder,
    complete_review,
    depression_plan,
    sign_as_clinician,
)
from tests.support.plans import SUPERVISOR

SPEC_CODES = {
    "REVIEW_OVERDUE",
    "PLAN_TOO_OLD",
    "CLIENT_SIGNATURE_MISSING",
    "CLIENT_SIGNATURE_SUPERSEDED",
    "COSIGNATURE_PENDING",
    "SIGNATURE_WITHOUT_CREDENTIALS",
    "OBJECTIVE_WITHOUT_BASELINE",
    "OBJECTIVE_WITHOUT_TARGET",
    "OBJECTIVE_WITHOUT_TARGET_DATE",
    "DIAGNOSIS_WITHOUT_PROBLEM",
    "NO_DISCHARGE_CRITERIA",
    "INTERVENTION_WITHOUT_OBJECTIVE",
    "REVIEW_COPIED_FORWARD",
    "OBJECTIVE_STALLED",
    "MEASUREMENT_MISSING",
    "RATIONALE_MISSING",
    "LATE_ENTRY",
}


def found(
    b: PlanBuilder, today: date | None = None, profile: RuleProfile | None = None
) -> list[dict[str, object]]:
    return plan_findings(b.state, b.events, profile or RuleProfile(), today or b.today)


def codes(
    b: PlanBuilder, today: date | None = None, profile: RuleProfile | None = None
) -> set[object]:
    return {f["code"] for f in found(b, today, profile)}


def about(b: PlanBuilder, code: str, today: date | None = None) -> set[object]:
    """The items a finding concerns."""
    return {f["item_id"] for f in found(b, today) if f["code"] == code}


def test_every_spec_finding_has_a_documented_stable_code() -> None:
    assert FINDINGS.keys() >= SPEC_CODES
    for code, kind in FINDINGS.items():
        assert kind.code == code
        assert kind.severity in ("error", "warning", "info")
        assert kind.title
        assert "clears" in kind.computed.lower()  # each says how it is resolved


def test_a_complete_signed_plan_has_no_findings() -> None:
    b, _ = depression_plan()
    assert found(b) == []


def test_findings_have_the_api_shape() -> None:
    b, _ = depression_plan(sign=False)
    sign_as_clinician(b)
    [finding] = found(b)
    assert finding == {
        "code": "CLIENT_SIGNATURE_MISSING",
        "severity": "error",
        "message": "Jordan Ellis has not signed the plan",
        "item_id": None,
        "label": None,
    }


def test_review_overdue_raised_after_the_due_date_and_cleared_by_a_review() -> None:
    b, _ = depression_plan()
    assert "REVIEW_OVERDUE" not in codes(b, date(2026, 4, 5))
    assert "REVIEW_OVERDUE" in codes(b, date(2026, 4, 6))
    [message] = [f["message"] for f in found(b, date(2026, 4, 15)) if f["code"] == "REVIEW_OVERDUE"]
    assert message == "The review due on 2026-04-05 is 10 days overdue"
    b.advance(days=91)
    complete_review(b, "Late review.")
    assert "REVIEW_OVERDUE" not in codes(b)


def test_review_overdue_follows_a_practice_interval_and_grace() -> None:
    b, _ = depression_plan()
    monthly = RuleProfile(review_interval_days=30)
    assert "REVIEW_OVERDUE" in codes(b, date(2026, 2, 5), monthly)
    assert "REVIEW_OVERDUE" not in codes(
        b, date(2026, 2, 5), RuleProfile(review_interval_days=30, review_grace_days=7)
    )


def test_plan_too_old_raised_after_a_year_and_cleared_by_discharge() -> None:
    b, _ = depression_plan()
    assert "PLAN_TOO_OLD" not in codes(b, date(2027, 1, 5))
    assert "PLAN_TOO_OLD" in codes(b, date(2027, 1, 6))
    assert "PLAN_TOO_OLD" in codes(b, date(2026, 7, 6), RuleProfile(plan_max_age_days=180))
    b.advance(days=300)
    b.run(c.DischargePlan(reason="Goals met; continuing with a new plan."))
    assert "PLAN_TOO_OLD" not in codes(b, date(2027, 1, 6))


def test_renewal_due_when_the_plan_ends_before_the_next_review() -> None:
    b, _ = depression_plan()  # ends 2026-12-31
    b.advance(days=80)
    complete_review(b, "Steady progress.", next_review=date(2027, 1, 20))
    [message] = [f["message"] for f in found(b) if f["code"] == "PLAN_RENEWAL_DUE"]
    assert message == (
        "The plan ends on 2026-12-31, before the next review due on 2027-01-20: "
        "the renewal is due, not a review; renew or discharge"
    )
    assert next_due(b.state) == ("renewal", date(2026, 12, 31))
    assert due_row(*next_due(b.state))["note"] == RENEWAL_NOTE
    later = [f["message"] for f in found(b, date(2027, 1, 10)) if f["code"] == "PLAN_RENEWAL_DUE"]
    assert later[0].startswith("The plan ended on 2026-12-31 (10 days ago)")


def test_renewal_due_cleared_by_a_review_due_within_the_plan_or_by_discharge() -> None:
    b, _ = depression_plan()
    b.advance(days=80)
    complete_review(b, "Steady progress.", next_review=date(2027, 1, 20))
    b.advance(days=10)
    complete_review(b, "Rescheduled.", next_review=date(2026, 12, 15))
    assert "PLAN_RENEWAL_DUE" not in codes(b)
    assert next_due(b.state) == ("review", date(2026, 12, 15))
    assert due_row(*next_due(b.state))["note"] is None
    complete_review(b, "Pushed out.", next_review=date(2027, 2, 1))
    assert "PLAN_RENEWAL_DUE" in codes(b)
    b.run(c.DischargePlan(reason="Moved out of state; referred on."))
    assert "PLAN_RENEWAL_DUE" not in codes(b)


def test_the_plan_document_names_the_renewal_as_what_is_next_until_discharge() -> None:
    b, _ = depression_plan()
    assert plan_document(b.state)["next_due"] == {
        "kind": "review",
        "date": "2026-04-05",
        "note": None,
    }
    b.advance(days=80)
    complete_review(b, "Steady progress.", next_review=date(2027, 1, 20))
    document = plan_document(b.state)
    assert document["next_due"] == {"kind": "renewal", "date": "2026-12-31", "note": RENEWAL_NOTE}
    assert document["next_review_due"] == "2027-01-20"  # still shown as recorded
    b.run(c.DischargePlan(reason="Goals met; continuing with a new plan."))
    assert plan_document(b.state)["next_due"] is None


def test_client_signature_missing_raised_once_signed_by_clinician_and_cleared_by_client() -> None:
    b, _ = depression_plan(sign=False)
    assert "CLIENT_SIGNATURE_MISSING" not in codes(b)  # a draft is still being written
    sign_as_clinician(b)
    assert "CLIENT_SIGNATURE_MISSING" in codes(b)
    b.run(c.CaptureSignature(role="guardian", meaning="agreed", signer_name="Pat Ellis"))
    assert "CLIENT_SIGNATURE_MISSING" not in codes(b)


def test_client_signature_superseded_by_a_change_and_cleared_by_signing_again() -> None:
    b, ids = depression_plan()
    [change] = b.run(
        c.ReviseGoal(goal_id=ids["goal2"], client_words="I want to feel safe."),
        rationale="Client's words",
    )
    [finding] = [f for f in found(b) if f["code"] == "CLIENT_SIGNATURE_SUPERSEDED"]
    assert finding["item_id"] == ids["client_signature"]
    assert f"superseded by version {change.originator_version}" in str(finding["message"])
    assert "CLIENT_SIGNATURE_MISSING" not in codes(b)
    b.run(c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis"))
    assert not codes(b) & {"CLIENT_SIGNATURE_SUPERSEDED", "CLIENT_SIGNATURE_MISSING"}


def test_revoked_client_signature_counts_as_missing() -> None:
    b, ids = depression_plan()
    b.run(c.RevokeSignature(signature_id=ids["client_signature"]), rationale="Signed under duress")
    assert "CLIENT_SIGNATURE_MISSING" in codes(b)


def test_cosignature_pending_until_the_supervisor_signs() -> None:
    b, _ = depression_plan()
    request = b.add(
        c.RequestSignature(
            role="supervisor", meaning="approved", signer_id="sam", signer_name="Sam Okafor"
        )
    )
    assert about(b, "COSIGNATURE_PENDING") == {request}
    b.run(
        c.CaptureSignature(
            role="supervisor",
            meaning="approved",
            signer_name="Sam Okafor",
            signer_credentials="PhD",
            signer_id="sam",
        ),
        actor=SUPERVISOR,
    )
    assert "COSIGNATURE_PENDING" not in codes(b)


def test_signature_without_credentials_cleared_by_revoking_and_signing_with_them() -> None:
    b, _ = depression_plan(sign=False)
    bare = sign_as_clinician(b, credentials=None)
    b.run(c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis"))
    assert about(b, "SIGNATURE_WITHOUT_CREDENTIALS") == {
        bare
    }  # clients have no credentials to show
    b.run(c.RevokeSignature(signature_id=bare), rationale="Signed without credentials")
    sign_as_clinician(b)
    assert "SIGNATURE_WITHOUT_CREDENTIALS" not in codes(b)


def test_objective_without_baseline_target_or_date_cleared_by_a_revision() -> None:
    b, ids = depression_plan()
    vague = b.add(
        c.AddObjective(goal_id=ids["goal1"], statement="Feels more connected to friends.")
    )
    for code in (
        "OBJECTIVE_WITHOUT_BASELINE",
        "OBJECTIVE_WITHOUT_TARGET",
        "OBJECTIVE_WITHOUT_TARGET_DATE",
    ):
        assert about(b, code) == {vague}
    b.run(
        c.ReviseObjective(
            objective_id=vague,
            measure={"instrument": "social contacts", "target": 2, "direction": "increase"},
        ),
        rationale="Made measurable",
    )
    assert codes(b) >= {"OBJECTIVE_WITHOUT_BASELINE", "OBJECTIVE_WITHOUT_TARGET_DATE"}
    assert "OBJECTIVE_WITHOUT_TARGET" not in codes(b)
    b.run(
        c.ReviseObjective(
            objective_id=vague,
            measure={
                "instrument": "social contacts",
                "baseline": 0,
                "target": 2,
                "direction": "increase",
            },
            target_date=date(2026, 3, 1),
        ),
        rationale="Baseline from intake",
    )
    assert not codes(b) & {
        "OBJECTIVE_WITHOUT_BASELINE",
        "OBJECTIVE_WITHOUT_TARGET",
        "OBJECTIVE_WITHOUT_TARGET_DATE",
    }


def test_met_objectives_are_not_held_to_baseline_rules() -> None:
    b, ids = depression_plan()
    vague = b.add(c.AddObjective(goal_id=ids["goal1"], statement="Feels more connected."))
    b.run(
        c.MarkObjectiveStatus(objective_id=vague, status="no_longer_relevant"),
        rationale="Folded into 1.2",
    )
    assert "OBJECTIVE_WITHOUT_BASELINE" not in codes(b)


def test_diagnosis_without_problem_cleared_by_linking_a_problem() -> None:
    b, ids = depression_plan()
    b.run(c.AddDiagnosis(code="F41.1", description="Generalised anxiety disorder"))
    assert about(b, "DIAGNOSIS_WITHOUT_PROBLEM") == {"F41.1"}
    b.run(
        c.ReviseProblem(problem_id=ids["problem1"], diagnosis_codes=["F32.1", "F41.1"]),
        rationale="Worry drives the low mood",
    )
    assert "DIAGNOSIS_WITHOUT_PROBLEM" not in codes(b)


def test_no_discharge_criteria_until_they_are_set() -> None:
    b = PlanBuilder()
    assert "NO_DISCHARGE_CRITERIA" in codes(b)
    b.run(c.SetDischargeCriteria(criteria=["GAD-7 under 5 at three consecutive sessions."]))
    assert "NO_DISCHARGE_CRITERIA" not in codes(b)


def test_intervention_linked_to_no_objective_cleared_by_linking_it() -> None:
    b, ids = depression_plan()
    loose = b.add(
        c.AddIntervention(
            modality="Psychoeducation", technique="Cognitive model of depression", frequency="once"
        )
    )
    assert about(b, "INTERVENTION_WITHOUT_OBJECTIVE") == {loose}
    b.run(
        c.ReviseIntervention(intervention_id=loose, objective_ids=[ids["objective11"]]),
        rationale="Supports 1.1",
    )
    assert "INTERVENTION_WITHOUT_OBJECTIVE" not in codes(b)


def test_copied_forward_review_raised_and_cleared_by_an_updating_review() -> None:
    b, ids = depression_plan()
    b.advance(days=30)
    complete_review(b, "Some progress.")
    assert "REVIEW_COPIED_FORWARD" not in codes(b)
    b.advance(days=30)
    second = complete_review(b, "Some progress.")
    assert about(b, "REVIEW_COPIED_FORWARD") == {second}
    assert "REVIEW_COPIED_FORWARD" not in codes(
        b, profile=RuleProfile(copy_forward_streak_threshold=2)
    )
    b.advance(days=30)
    complete_review(b, "Safety plan done.", {ids["objective21"]: "met"})
    assert "REVIEW_COPIED_FORWARD" not in codes(b)


def test_objective_not_met_twice_without_revision_is_stalled_until_revised() -> None:
    b, ids = depression_plan()
    b.advance(days=30)
    complete_review(b, "No change in mood.", {ids["objective11"]: "not_met"})
    assert "OBJECTIVE_STALLED" not in codes(b)
    b.advance(days=30)
    complete_review(b, "Still no change in mood.", {ids["objective11"]: "not_met"})
    assert about(b, "OBJECTIVE_STALLED") == {ids["objective11"]}
    b.run(
        c.ReviseIntervention(
            intervention_id=ids["intervention2"], technique="Behavioural experiments"
        ),
        rationale="Try differently",
    )
    assert "OBJECTIVE_STALLED" not in codes(b)


def test_a_revision_between_two_not_met_reviews_is_trying_differently() -> None:
    b, ids = depression_plan()
    b.advance(days=30)
    complete_review(b, "No change.", {ids["objective11"]: "not_met"})
    b.run(
        c.ReviseObjective(objective_id=ids["objective11"], target_date=date(2026, 6, 1)),
        rationale="Longer horizon",
    )
    b.advance(days=30)
    complete_review(b, "No change yet.", {ids["objective11"]: "not_met"})
    assert "OBJECTIVE_STALLED" not in codes(b)


def test_no_measurement_since_the_last_review_after_the_grace_period() -> None:
    b, ids = depression_plan()
    b.advance(days=30)
    complete_review(b, "Reviewed.")
    assert "MEASUREMENT_MISSING" not in codes(b, b.today + timedelta(days=30))
    assert ids["objective11"] in about(b, "MEASUREMENT_MISSING", b.today + timedelta(days=31))
    b.advance(days=20)
    b.run(c.RecordMeasurement(instrument="PHQ-9", score=13, administered_on=b.today))
    missing = about(b, "MEASUREMENT_MISSING", b.today + timedelta(days=11))
    assert ids["objective11"] not in missing
    assert ids["objective12"] in missing  # its activity log still has no entry


def test_revision_without_rationale_raised_until_one_is_recorded() -> None:
    b, ids = depression_plan()
    [revision] = b.run(
        c.ReviseObjective(objective_id=ids["objective12"], statement="Three activities a week."),
        rationale="x",
    )
    # Recorded before the rationale rule (or imported): the rules refuse such an entry today.
    b.events[-1] = revision.model_copy(update={"rationale": None})
    assert about(b, "RATIONALE_MISSING") == {ids["objective12"]}
    b.run(
        c.RecordRationale(
            text="Four was unrealistic on night shifts.",
            explains_version=revision.originator_version,
        )
    )
    assert "RATIONALE_MISSING" not in codes(b)


def test_requested_rationale_raised_until_answered() -> None:
    b, ids = depression_plan()
    [revision] = b.run(
        c.ReviseObjective(objective_id=ids["objective12"], statement="Three a week."),
        rationale="Easier",
    )
    b.run(
        c.RecordRationale(
            text="Easier for whom?",
            explains_version=revision.originator_version,
            kind="rationale_request",
        ),
        actor=SUPERVISOR,
    )
    assert about(b, "RATIONALE_REQUESTED") == {ids["objective12"]}
    b.run(
        c.RecordRationale(
            text="Night shifts leave two free evenings.",
            explains_version=revision.originator_version,
        )
    )
    assert "RATIONALE_REQUESTED" not in codes(b)


def test_late_entry_without_a_reason_raised_until_the_delay_is_explained() -> None:
    b, _ = depression_plan()
    b.advance(days=30)
    [late] = b.run(
        c.RecordMeasurement(instrument="PHQ-9", score=15, administered_on=date(2026, 1, 20))
    )
    [finding] = [f for f in found(b) if f["code"] == "LATE_ENTRY"]
    assert finding["severity"] == "info"
    assert finding["item_id"] == late.measurement_id  # type: ignore[attr-defined]
    assert "recorded on 2026-02-04 for 2026-01-20" in str(finding["message"])
    assert "LATE_ENTRY" not in codes(b, profile=RuleProfile(late_entry_days=30))
    b.run(
        c.RecordRationale(
            text="Paper form found in the waiting room.", explains_version=late.originator_version
        )
    )
    assert "LATE_ENTRY" not in codes(b)


def test_a_practice_can_disable_codes_and_change_severities() -> None:
    b, _ = depression_plan(sign=False)
    sign_as_clinician(b)
    profile = RuleProfile(
        severities={"CLIENT_SIGNATURE_MISSING": "warning"},
        disabled=frozenset({"NO_DISCHARGE_CRITERIA"}),
    )
    assert [(f["code"], f["severity"]) for f in found(b, profile=profile)] == [
        ("CLIENT_SIGNATURE_MISSING", "warning")
    ]


def test_profile_refuses_unknown_or_impossible_settings() -> None:
    with pytest.raises(ValueError, match="late_entry_dayz"):
        RuleProfile.model_validate({"late_entry_dayz": 3})
    with pytest.raises(ValueError, match="greater than or equal"):
        RuleProfile(plan_max_age_days=0)


# ------------------------------------------------------------------ signature coverage
def test_a_superseded_clinician_signature_is_a_finding_naming_versions_and_items() -> None:
    from datetime import timedelta

    from plantrail.domain import commands as cmd
    from plantrail.projections.findings import plan_findings as findings_of
    from plantrail.projections.profile import RuleProfile as Profile
    from tests.support.histories import depression_plan as plan_of
    from tests.support.histories import sign_as_clinician as clinician_signs

    b, _ = plan_of()
    state = b.at(b.events[-1].originator_version)
    assert "UNSIGNED_CHANGES" not in {
        f["code"] for f in findings_of(state, b.events, Profile(), b.today)
    }
    b.advance(days=3)
    b.run(cmd.SetDischargeCriteria(criteria=["No panic attack for eight weeks"]), rationale="x")
    state = b.at(b.events[-1].originator_version)
    found = {f["code"]: f for f in findings_of(state, b.events, Profile(), b.today)}
    unsigned = found["UNSIGNED_CHANGES"]
    assert unsigned["severity"] == "error"
    assert f"version {b.events[-1].originator_version}" in unsigned["message"]
    assert "Discharge criteria" in unsigned["message"]
    later = b.today + timedelta(days=5)
    lenient = Profile(unsigned_change_grace_days=10)
    assert "UNSIGNED_CHANGES" not in {
        f["code"] for f in findings_of(state, b.events, lenient, later)
    }
    clinician_signs(b)
    state = b.at(b.events[-1].originator_version)
    assert "UNSIGNED_CHANGES" not in {
        f["code"] for f in findings_of(state, b.events, Profile(), b.today)
    }


def test_a_copied_forward_review_with_a_continuation_reason_is_still_reported_with_it() -> None:
    b, _ = depression_plan()
    b.advance(days=30)
    complete_review(b, "Some progress.")
    b.advance(days=30)
    review_id = b.add(c.StartReview(reason="scheduled"))
    b.run(
        c.CompleteReview(
            review_id=review_id,
            assessments=[
                c.AssessmentIn(objective_id=o.id, status="partially_met")
                for o in b.state.objectives.values()
            ],
            progress_summary="Some progress.",
            continuation_reason="Steady gains; nothing to change yet",
        )
    )
    [finding] = [f for f in found(b) if f["code"] == "REVIEW_COPIED_FORWARD"]
    assert str(finding["message"]).endswith(
        "; the clinician stated why continuing unchanged is right: "
        "«Steady gains; nothing to change yet»"
    )
