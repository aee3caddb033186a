"""Cross-plan read models: rebuilt from scratch they equal the incrementally maintained tables,
and the caseload, findings and copy-forward reports show what a supervisor or auditor expects."""

from __future__ import annotations

import random
from datetime import timedelta
from uuid import UUID

import pytest

from plantrail.api.demo import load_demo
from plantrail.domain import commands as c
from plantrail.domain.content import content_hash
from plantrail.domain.service import PlanService
from plantrail.projections import caseload
from plantrail.projections.access.policy import Reach
from plantrail.projections.assembly import recorder_of
from plantrail.projections.caseload import (
    catch_up,
    dump_tables,
    query_caseload,
    query_copy_forward,
    query_findings,
    rebuild,
)
from plantrail.projections.document import RENEWAL_NOTE
from plantrail.projections.profile import RuleProfile
from tests.support.clock import FakeClock
from tests.support.plans import meta, open_command

STATEMENTS = [
    "Lower PHQ-9 from 17 to under 10.",
    "Attend four planned social activities a week.",
    "Sleep six hours on five nights a week.",
    "Use the urge-surfing skill before every drink, per diary.",
]


def _write_plan(service: PlanService, clock: FakeClock, rng: random.Random, n: int) -> UUID:
    start = clock.now.date()
    plan_id = UUID(
        service.open_plan(open_command(f"MRN-{n:05d}"), meta(effective_date=start)).plan_id
    )
    run = lambda command, **m: service.execute(plan_id, command, meta(**m))  # noqa: E731
    run(c.AddDiagnosis(code="F32.1", description="Major depressive disorder", primary=True))
    problem = run(c.AddProblem(statement=f"Low mood, client {n}", diagnosis_codes=["F32.1"]))
    goal = run(c.AddGoal(statement="Mood lifts", problem_ids=[problem.item_id]))
    objective = run(
        c.AddObjective(
            goal_id=goal.item_id,
            statement=rng.choice(STATEMENTS),
            measure={"instrument": "PHQ-9", "baseline": 17, "target": 9},  # type: ignore[arg-type]
            target_date=start + timedelta(days=200),
        )
    )
    if rng.random() < 0.7:
        run(c.SetDischargeCriteria(criteria=["PHQ-9 under 10 twice"]))
    if rng.random() < 0.8:
        run(
            c.CaptureSignature(
                role="clinician",
                meaning="authored",
                signer_name="Dana Reyes",
                signer_credentials="LCSW",
            )
        )
        for review in range(rng.randint(0, 3)):
            started = run(c.StartReview(reason="scheduled"))
            if rng.random() < 0.4:
                run(
                    c.ReviseObjective(
                        objective_id=objective.item_id, statement=f"Revised objective {n}.{review}"
                    ),
                    rationale="Progress stalled; changing approach.",
                )
            run(
                c.CompleteReview(
                    review_id=started.item_id,  # type: ignore[arg-type]
                    assessments=[c.AssessmentIn(objective_id=objective.item_id, status="open")],  # type: ignore[arg-type]
                    progress_summary=rng.choice(
                        ["Slow progress.", "Some progress, continue.", "slow progress"]
                    ),
                )
            )
    return plan_id


@pytest.mark.slow
def test_rebuild_equals_incremental_on_200_plans(store_url: str, key_dir, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    from plantrail.projections.assembly import open_service

    service = open_service(store_url, key_dir, clock=clock)
    recorder = recorder_of(service)
    rng = random.Random(20261123)
    plans = []
    for n in range(200):
        plans.append(_write_plan(service, clock, rng, n))
        if n % 37 == 0:
            catch_up(service, recorder)  # incremental: caught up between writes
        clock.advance(hours=3)
    # Touch some plans after they were caught up, so incremental rows are updated in place.
    for plan_id in rng.sample(plans, 20):
        service.execute(plan_id, c.NoteStrength(text="Reliable transport"), meta())
    catch_up(service, recorder)
    incremental = dump_tables(recorder)
    assert len(incremental["plantrail_caseload"]) == 200
    assert rebuild(service, recorder) == 200
    assert dump_tables(recorder) == incremental
    assert catch_up(service, recorder) == 0, "nothing is stale after a rebuild"
    service.close()


def test_rebuild_with_a_helper_process_equals_one_process(
    service: PlanService, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = recorder_of(service)
    rng = random.Random(20261201)
    for n in range(24):
        _write_plan(service, clock, rng, n)
        clock.advance(hours=3)
    assert rebuild(service, recorder, helper=False) == 24
    alone = dump_tables(recorder)
    monkeypatch.setattr(caseload, "HELPER_MIN_PLANS", 1)
    started: list[object] = []
    real_helper = caseload._helper
    monkeypatch.setattr(caseload, "_helper", lambda: started.append(1) or real_helper())
    assert rebuild(service, recorder, helper=True) == 24
    assert started, "the helper process computed part of the rows"
    assert dump_tables(recorder) == alone


@pytest.fixture
def demo(service: PlanService, clock: FakeClock) -> dict[str, UUID]:
    clock.now = clock.now.replace(year=2026, month=11, day=20)
    plans = load_demo(service)
    catch_up(service, recorder_of(service))
    return {p.client: p.plan_id for p in plans}


def test_caseload_reach_and_flags(service: PlanService, demo: dict[str, UUID]) -> None:
    recorder = recorder_of(service)
    everyone = query_caseload(recorder, Reach(all_plans=True))
    assert {row["client"]["name"] for row in everyone} == set(demo)
    dana = query_caseload(recorder, Reach(clinician_ids=["dana-reyes"]))
    assert {row["client"]["name"] for row in dana} == {"Jordan Ellis", "Casey Brooks"}
    assert query_caseload(recorder, Reach()) == [], "no reach, no plans"
    anxious = next(row for row in everyone if row["client"]["name"] == "Morgan Lee")
    assert anxious["review_overdue"] is True
    assert "copied_forward" in anxious["flags"]
    overdue = query_caseload(recorder, Reach(all_plans=True), flag="review_overdue")
    assert [row["client"]["name"] for row in overdue] == ["Morgan Lee"]
    drafts = query_caseload(recorder, Reach(all_plans=True), status="draft")
    assert [row["client"]["name"] for row in drafts] == ["Avery Patel"]


def test_caseload_rows_name_the_renewal_when_the_plan_ends_before_its_review(
    service: PlanService, demo: dict[str, UUID]
) -> None:
    recorder = recorder_of(service)
    rows = {row["client"]["name"]: row for row in query_caseload(recorder, Reach(all_plans=True))}
    riley = rows["Riley Chen"]
    assert riley["next_due"] == {
        "kind": "renewal",
        "date": riley["plan_end_date"],
        "note": RENEWAL_NOTE,
    }
    assert riley["plan_end_date"] < riley["next_review_due"]
    jordan = rows["Jordan Ellis"]
    assert jordan["next_due"] == {"kind": "review", "date": jordan["next_review_due"], "note": None}
    renewals = query_caseload(recorder, Reach(all_plans=True), flag="PLAN_RENEWAL_DUE")
    assert [row["client"]["name"] for row in renewals] == ["Riley Chen"]
    for row in rows.values():  # the demo data is consistent: no review after its plan ends
        if row["next_due"] and row["next_due"]["kind"] == "review" and row["next_review_due"]:
            assert row["next_review_due"] <= row["plan_end_date"], row["client"]["name"]


def test_the_demo_has_a_review_due_today_with_nothing_changed_since_the_last(
    service: PlanService, demo: dict[str, UUID], clock: FakeClock
) -> None:
    """Noah Bennett's plan is where a newcomer tries the copy-forward prompt: its review is due
    today (not yet overdue), its content is what it was when the last review was completed,
    and the scores since then have not moved."""
    rows = {
        r["client"]["name"]: r for r in query_caseload(recorder_of(service), Reach(all_plans=True))
    }
    noah = rows["Noah Bennett"]
    today = clock.now.date()
    assert noah["status"] == "active"
    assert noah["next_due"] == {"kind": "review", "date": noah["next_review_due"], "note": None}
    assert str(noah["next_review_due"]) == today.isoformat()
    assert noah["review_overdue"] is False
    state = service.load(demo["Noah Bennett"])
    assert state.open_review is None
    [last] = [r for r in state.reviews.values() if r.completed_version is not None]
    assert last.completed_version is not None
    at_review = service.load(demo["Noah Bennett"], last.completed_version)
    assert content_hash(at_review) == content_hash(state)
    since = [
        m.score for m in state.measurements.values() if m.administered_on > last.effective_date
    ]
    assert sorted(set(since)) == [10, 36]  # GAD-7 10 and SPIN 36, again and again
    assert all(
        s.status == "current"
        for s in state.signatures.values()
        if s.signed_version > last.completed_version
    )


def test_the_demo_has_a_minor_with_a_guardian(service: PlanService, demo: dict[str, UUID]) -> None:
    state = service.load(demo["Ella Novak"])
    assert state.client.guardian is not None
    assert state.client.guardian.relationship == "mother"
    assert {s.role for s in state.signatures.values()} == {"clinician", "client", "guardian"}
    assert any(o.measure and o.measure.instrument == "PHQ-A" for o in state.objectives.values())


def test_copy_forward_report(service: PlanService, demo: dict[str, UUID]) -> None:
    report = query_copy_forward(recorder_of(service), Reach(all_plans=True))
    top = report["plans"][0]
    assert top["client_name"] == "Morgan Lee"
    # Review 1 only added "daily" to "Client will use coping skills.": a near copy, so the
    # plan has been carried forward three reviews in a row.
    assert top["longest_streak"] == 3
    assert [r["verdict"] for r in top["reviews"]] == [
        "nearly_copied_forward",
        "copied_forward",
        "copied_forward",
    ]
    assert (top["copied_forward_reviews"], top["nearly_copied_reviews"]) == (3, 1)
    assert "one word added: *daily*" in top["reviews"][0]["explanation"]
    reused = report["reused_objectives"]
    assert len(reused) == 1
    assert {use["client_name"] for use in reused[0]["uses"]} == {"Morgan Lee", "Avery Patel"}
    only_dana = query_copy_forward(recorder_of(service), Reach(clinician_ids=["dana-reyes"]))
    assert only_dana["reused_objectives"] == [], (
        "reuse across plans the caller cannot see is hidden"
    )


def test_findings_report_follows_today(
    service: PlanService, demo: dict[str, UUID], clock: FakeClock
) -> None:
    recorder = recorder_of(service)
    codes = {(f["client_name"], f["code"]) for f in query_findings(recorder, Reach(all_plans=True))}
    assert ("Morgan Lee", "REVIEW_OVERDUE") in codes
    assert ("Jordan Ellis", "REVIEW_OVERDUE") not in codes
    # Three months later, without any new event, Jordan's review is overdue too.
    clock.now += timedelta(days=90)
    assert catch_up(service, recorder) == len(demo)
    codes = {(f["client_name"], f["code"]) for f in query_findings(recorder, Reach(all_plans=True))}
    assert ("Jordan Ellis", "REVIEW_OVERDUE") in codes


def test_near_copy_flags_in_the_caseload(service: PlanService, demo: dict[str, UUID]) -> None:
    recorder = recorder_of(service)
    near = query_caseload(recorder, Reach(all_plans=True), flag="nearly_copied_forward")
    assert [row["client"]["name"] for row in near] == ["Morgan Lee"]
    assert near[0]["nearly_copied_reviews"] == 1
    assert "copied_forward" in near[0]["flags"]


def _plan_with_objective(service: PlanService, mrn: str, statement: str) -> UUID:
    plan_id = UUID(service.open_plan(open_command(mrn), meta()).plan_id)
    run = lambda command: service.execute(plan_id, command, meta())  # noqa: E731
    problem = run(c.AddProblem(statement="Low mood", diagnosis_codes=[]))
    goal = run(c.AddGoal(statement="Mood lifts", problem_ids=[problem.item_id]))
    run(c.AddObjective(goal_id=goal.item_id, statement=statement))
    return plan_id


def test_a_statement_reused_with_a_word_changed_is_shared_text(service: PlanService) -> None:
    _plan_with_objective(service, "MRN-1", "Attend four planned social activities a week.")
    _plan_with_objective(service, "MRN-2", "Attend four planned social outings a week.")
    _plan_with_objective(service, "MRN-3", "Attend two planned social activities a week.")
    _plan_with_objective(service, "MRN-4", "Keep a sleep diary every night.")
    recorder = recorder_of(service)
    catch_up(service, recorder)
    [shared] = query_copy_forward(recorder, Reach(all_plans=True))["reused_objectives"]
    assert shared["near"] is True
    assert shared["clients"] == 2  # "two" instead of "four" is another objective, not a copy
    assert sorted(use["statement"] for use in shared["uses"]) == [
        "Attend four planned social activities a week.",
        "Attend four planned social outings a week.",
    ]
    detector_1 = query_copy_forward(
        recorder, Reach(all_plans=True), profile=RuleProfile(copy_forward_detector=1)
    )
    assert detector_1["reused_objectives"] == []


def test_read_model_tables_from_before_the_near_copy_columns_are_recreated(
    service: PlanService, demo: dict[str, UUID]
) -> None:
    """A store whose read models predate a column gets them afresh from ``plantrail migrate``
    (step 0005), and catches up from the events: the read models hold nothing that is not
    computed from the event log."""
    from plantrail.projections.migrations.runner import migrate

    recorder = recorder_of(service)
    expected = dump_tables(recorder)
    with recorder.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE plantrail_review_verdicts DROP COLUMN explanation")
        conn.exec_driver_sql("ALTER TABLE plantrail_caseload DROP COLUMN nearly_copied_reviews")
        conn.exec_driver_sql("UPDATE plantrail_schema_version SET version_num = '0004'")
    assert [step.revision for step in migrate(recorder.engine).applied] == ["0005", "0006", "0007"]
    assert query_caseload(recorder, Reach(all_plans=True)) == [], "recreated empty"
    assert catch_up(service, recorder) == len(demo)
    assert dump_tables(recorder) == expected


def test_the_copied_forward_badge_follows_the_finding(
    service: PlanService, clock: FakeClock
) -> None:
    """Reviews copied forward in May and July, then an October review that updates the plan:
    the finding clears, and with it the caseload's flag, badge and filter."""
    from tests.support.plans import CLINICIAN, copy_forward_history

    plan = copy_forward_history(service, clock, open_command("MRN-7101"), CLINICIAN)
    recorder = recorder_of(service)
    catch_up(service, recorder, today=clock().date())
    [row] = [
        r
        for r in query_caseload(recorder, Reach(all_plans=True))
        if r["plan_id"] == str(plan["plan_id"])
    ]
    assert row["copied_forward_reviews"] == 2, "the history still counts them"
    assert "review_copied_forward" not in row["flags"]
    assert "copied_forward" not in row["flags"]
    for name in ("copied_forward", "review_copied_forward"):
        assert query_caseload(recorder, Reach(all_plans=True), flag=name) == []
