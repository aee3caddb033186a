"""Findings at a clinical date and over a period: what an auditor sees for the days they ask
about, not only what the plan shows today."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantrail.domain import commands as c
from plantrail.domain.errors import InvalidInput, PlantrailError
from plantrail.domain.plan import fold
from plantrail.projections.findings import plan_findings
from plantrail.projections.period_findings import (
    MAX_PERIOD_DAYS,
    findings_on,
    period_findings,
)
from plantrail.projections.profile import RuleProfile
from tests.support.histories import PlanBuilder, complete_review, depression_plan
from tests.support.plans import SUPERVISOR

PROFILE = RuleProfile()


def on_day(b: PlanBuilder, day: date) -> None:
    """Move the builder's clock to 10:00 UTC on ``day``."""
    b.now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def copied_forward_then_updated() -> tuple[PlanBuilder, dict[str, str]]:
    """Reviews in February (assessing the objectives), March and June (both copied forward,
    nothing in the plan changed) and October (the safety plan objective met: the plan updated,
    which clears the copy-forward finding)."""
    b, ids = depression_plan()
    for day in (date(2026, 2, 9), date(2026, 3, 16), date(2026, 6, 8)):
        on_day(b, day)
        ids[f"review {day:%b}"] = complete_review(b, "Some progress.")
    on_day(b, date(2026, 10, 5))
    ids["review Oct"] = complete_review(b, "Safety plan done.", {ids["objective21"]: "met"})
    return b, ids


def held(findings: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["code"] == code]


def test_copy_forward_cleared_by_october_still_shows_for_april_to_july() -> None:
    b, ids = copied_forward_then_updated()
    today = date(2026, 10, 6)
    assert not held(findings_on(b.events, PROFILE, today=today), "REVIEW_COPIED_FORWARD")

    period = period_findings(b.events, PROFILE, date(2026, 4, 1), date(2026, 7, 31))

    copied = held(period, "REVIEW_COPIED_FORWARD")
    assert [(f["item_id"], f["dates"]) for f in copied] == [
        (ids["review Mar"], [{"from": "2026-04-01", "to": "2026-06-07"}]),
        (ids["review Jun"], [{"from": "2026-06-08", "to": "2026-07-31"}]),
    ]
    june = copied[1]
    assert (june["first_held"], june["last_held"]) == ("2026-06-08", "2026-07-31")
    assert june["label"] == "Review 3"
    assert "2 copied-forward reviews in a row" in june["message"]
    assert june["severity"] == "warning"


def test_findings_on_a_clinical_date_folds_the_events_effective_by_then() -> None:
    b, ids = copied_forward_then_updated()
    # In effect on 1 July: the June review had been copied forward; October had not happened.
    july = findings_on(b.events, PROFILE, effective_on=date(2026, 7, 1), today=date(2026, 7, 1))
    assert [f["item_id"] for f in held(july, "REVIEW_COPIED_FORWARD")] == [ids["review Jun"]]
    in_effect = [e for e in b.events if e.effective_date <= date(2026, 7, 1)]
    state = fold(in_effect)
    assert state is not None
    assert july == plan_findings(state, in_effect, PROFILE, date(2026, 7, 1))


def test_no_findings_before_the_plan_took_effect() -> None:
    b, _ = depression_plan()
    before = b.events[0].effective_date - timedelta(days=1)
    assert findings_on(b.events, PROFILE, effective_on=before, today=before) == []
    assert period_findings(b.events, PROFILE, before - timedelta(days=30), before) == []


def test_a_late_entry_counts_from_the_day_it_took_effect() -> None:
    """A discharge criterion recorded in March but effective in January clears
    NO_DISCHARGE_CRITERIA from January on the clinical axis, although the chart lacked it."""
    b = PlanBuilder()
    start = b.today
    on_day(b, date(2026, 3, 2))
    b.run(
        c.SetDischargeCriteria(criteria=["PHQ-9 under 5 twice."]),
        effective=date(2026, 1, 20),
        rationale="Agreed at intake; entered late.",
    )
    period = period_findings(b.events, PROFILE, start, date(2026, 3, 31))
    [criteria] = held(period, "NO_DISCHARGE_CRITERIA")
    assert criteria["dates"] == [{"from": start.isoformat(), "to": "2026-01-19"}]


def test_a_finding_that_clears_and_returns_has_two_runs_and_its_last_message() -> None:
    b, _ = depression_plan()  # signed on 5 January: the first review is due on 5 April
    on_day(b, date(2026, 4, 20))
    complete_review(b, "Mood lifting; activity log mostly kept.")  # next one due 19 July
    period = period_findings(b.events, PROFILE, date(2026, 4, 1), date(2026, 7, 31))
    [overdue] = held(period, "REVIEW_OVERDUE")
    assert overdue["dates"] == [
        {"from": "2026-04-06", "to": "2026-04-19"},
        {"from": "2026-07-20", "to": "2026-07-31"},
    ]
    assert overdue["message"] == "The review due on 2026-07-19 is 12 days overdue"
    assert (overdue["first_held"], overdue["last_held"]) == ("2026-04-06", "2026-07-31")


def test_period_findings_are_in_findings_order_then_by_first_day() -> None:
    b, _ = copied_forward_then_updated()
    period = period_findings(b.events, PROFILE, date(2026, 1, 1), date(2026, 12, 31))
    from plantrail.projections.findings import FINDINGS

    rank = list(FINDINGS)
    keys = [(rank.index(f["code"]), f["first_held"]) for f in period]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2026, 5, 1), date(2026, 4, 1), "ends (2026-04-01) before it starts (2026-05-01)"),
        (date(2020, 1, 1), date(2026, 1, 1), f"longer than {MAX_PERIOD_DAYS} days"),
    ],
)
def test_a_period_backwards_or_longer_than_three_years_is_refused(
    start: date, end: date, message: str
) -> None:
    b, _ = depression_plan()
    with pytest.raises(InvalidInput) as raised:
        period_findings(b.events, PROFILE, start, end)
    assert message in raised.value.message


def test_three_years_is_accepted() -> None:
    b, _ = depression_plan()
    start = date(2026, 1, 1)
    period_findings(b.events, PROFILE, start, start + timedelta(days=MAX_PERIOD_DAYS - 1))


# --------------------------------------------------------------------------- the oracle
def oracle(events: list[Any], profile: RuleProfile, start: date, end: date) -> dict[Any, Any]:
    """The union of each day's findings_on (clinical date and today the day), with the runs."""
    out: dict[Any, Any] = {}
    day = start
    while day <= end:
        for f in findings_on(events, profile, effective_on=day, today=day):
            key = (f["code"], f["item_id"])
            entry = out.setdefault(key, {"runs": []})
            runs = entry["runs"]
            if runs and runs[-1][1] == day:
                pass
            elif runs and runs[-1][1] == day - timedelta(days=1):
                runs[-1][1] = day
            else:
                runs.append([day, day])
            entry["message"] = f["message"]
        day += timedelta(days=1)
    return out


STEPS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=7),  # which command
        st.integers(min_value=0, max_value=12),  # days back it took effect (late entries)
        st.integers(min_value=0, max_value=9),  # days to the next command
        st.integers(min_value=0, max_value=27),  # a score or a pick
    ),
    min_size=1,
    max_size=18,
)


def _step(b: PlanBuilder, ids: dict[str, str], step: tuple[int, int, int, int]) -> None:
    kind, back, wait, pick = step
    effective = max(b.today - timedelta(days=back), b.events[0].effective_date)
    objectives = [ids["objective11"], ids["objective12"], ids["objective21"]]
    with contextlib.suppress(PlantrailError):  # a refused command stores nothing
        if kind == 0:
            b.run(
                c.RecordMeasurement(instrument="PHQ-9", score=pick, administered_on=effective),
                effective=effective,
            )
        elif kind == 1:
            complete_review(b, "Some progress.", effective=effective)
        elif kind == 2:
            b.run(
                c.ReviseObjective(objective_id=objectives[pick % 3], statement=f"Revised {pick}"),
                rationale="Trying differently.",
                effective=effective,
            )
        elif kind == 3:
            b.run(
                c.RecordRationale(
                    text="Why was this changed?",
                    explains_version=1 + pick % len(b.events),
                    kind="rationale_request",
                ),
                actor=SUPERVISOR,
            )
        elif kind == 4:
            b.run(
                c.RecordRationale(
                    text="Explained in supervision.",
                    explains_version=1 + pick % len(b.events),
                ),
                effective=effective,
            )
        elif kind == 5:
            b.run(
                c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis"),
                effective=effective,
            )
        elif kind == 6:
            b.run(c.NoteStrength(text=f"Strength {pick}"), effective=effective)
        else:
            b.run(
                c.SetDischargeCriteria(criteria=[f"Criterion {pick}"]),
                rationale="Updated with the client.",
                effective=effective,
            )
    b.advance(days=wait)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=STEPS,
    sign=st.booleans(),
    offsets=st.tuples(st.integers(-5, 60), st.integers(0, 120)),
)
def test_period_findings_are_the_union_of_each_days_findings_with_their_runs(
    steps: list[tuple[int, int, int, int]], sign: bool, offsets: tuple[int, int]
) -> None:
    b, ids = depression_plan(sign=sign)
    for step in steps:
        _step(b, ids, step)
    profile = RuleProfile(measurement_grace_days=5, late_entry_days=3)
    start = b.events[0].effective_date + timedelta(days=offsets[0])
    end = start + timedelta(days=offsets[1])

    got = period_findings(b.events, profile, start, end)

    expected = oracle(b.events, profile, start, end)
    assert {(f["code"], f["item_id"]) for f in got} == set(expected)
    for f in got:
        want = expected[(f["code"], f["item_id"])]
        runs = [{"from": a.isoformat(), "to": z.isoformat()} for a, z in want["runs"]]
        assert f["dates"] == runs
        assert f["message"] == want["message"]
        assert (f["first_held"], f["last_held"]) == (runs[0]["from"], runs[-1]["to"])


def test_each_run_is_worded_as_on_its_own_last_day() -> None:
    """A finding that names dates (the overdue review, the last review) is worded per run:
    each run's message is the finding's message on that run's last day."""
    from plantrail.projections.period_findings import effective_by

    b, _ = depression_plan()
    start = b.today
    end = start + timedelta(days=200)
    found = period_findings(b.events, PROFILE, start, end, run_messages=True)
    assert found
    for finding in found:
        for run in finding["dates"]:
            day = date.fromisoformat(run["to"])
            shown = effective_by(b.events, day)
            state = fold(shown)
            assert state is not None
            same = [
                f["message"]
                for f in plan_findings(state, shown, PROFILE, day)
                if (f["code"], f["item_id"]) == (finding["code"], finding["item_id"])
            ]
            assert run["message"] == same[-1]
    assert all(
        "message" not in r
        for f in period_findings(b.events, PROFILE, start, end)
        for r in f["dates"]
    )
