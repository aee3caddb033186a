"""Audit lines for dates of service: each date answered from the plan in clinical effect on it,
with the signatures an auditor checks (who, credentials, when signed, when recorded)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from plantrail.domain import commands as c
from plantrail.domain.errors import InvalidInput
from plantrail.projections.profile import RuleProfile
from plantrail.projections.service_dates import (
    ServiceDate,
    parse_service_dates,
    service_date_lines,
)
from tests.support.histories import PlanBuilder, depression_plan, sign_as_clinician

PROFILE = RuleProfile()


def on_day(b: PlanBuilder, day: date) -> None:
    b.now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def signed_on_the_tenth() -> PlanBuilder:
    """A plan written on 5 January and signed by clinician and client on 10 January."""
    b, _ = depression_plan(sign=False)
    on_day(b, date(2026, 1, 10))
    sign_as_clinician(b)
    b.run(c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis"))
    return b


def line(b: PlanBuilder, day: date, *codes: str) -> dict[str, object]:
    [found] = service_date_lines([b.events], [ServiceDate(day, codes)], PROFILE)
    return found


def test_a_covered_date_of_service_is_ok_with_a_readable_summary() -> None:
    b = signed_on_the_tenth()
    got = line(b, date(2026, 3, 3), "90837")
    assert got["ok"] is True
    assert got["plan_id"] == str(b.plan_id)
    assert got["plan_in_effect"] is True
    assert got["clinician_signature"] == {
        "signed": True,
        "signer": "Dana Reyes",
        "credentials": "LCSW",
        "signed_on": "2026-01-10",
        "recorded_at": "2026-01-10T10:00:00Z",
        "recorded_after_service": False,
    }
    assert got["client_signature"]["signed"] is True
    assert got["plan_effective_date"] == "2026-01-05"
    assert (got["plan_age_days"], got["under_a_year"]) == (57, True)
    assert (got["next_review_due"], got["review_overdue"]) == ("2026-04-10", False)
    assert got["summary"] == (
        f"2026-03-03 (90837): plan v{got['plan_version']} in effect; version 16 signed by "
        "Dana Reyes, LCSW on 2026-01-10; client signed 2026-01-10; 57 days old; "
        "next review due 2026-04-10: OK"
    )


def test_a_date_of_service_before_the_first_clinician_signature_is_not_covered() -> None:
    b = signed_on_the_tenth()
    got = line(b, date(2026, 1, 7), "90791")
    assert got["ok"] is False
    assert got["plan_id"] == str(b.plan_id)
    assert got["plan_in_effect"] is False  # still a draft on the 7th
    assert got["clinician_signature"]["signed"] is False
    assert got["client_signature"]["signed"] is False
    summary = str(got["summary"])
    assert "NOT signed by the clinician with credentials before this date (signed 2026-01-10)" in (
        summary
    )
    assert "NOT signed by the client before this date (signed 2026-01-10)" in summary


def test_a_date_of_service_before_the_plan_existed_names_when_it_took_effect() -> None:
    b = signed_on_the_tenth()
    got = line(b, date(2025, 12, 15))
    assert got["plan_id"] is None
    assert got["plan_version"] is None
    assert got["ok"] is False
    assert got["findings"] == []
    assert got["summary"] == (
        "2025-12-15: no plan in effect (the plan took effect on 2026-01-05): NOT OK"
    )


def test_a_signature_dated_before_the_service_but_recorded_after_it_is_shown_late() -> None:
    b, _ = depression_plan(sign=False)
    on_day(b, date(2026, 2, 1))
    b.run(
        c.CaptureSignature(
            role="clinician",
            meaning="authored",
            signer_name="Dana Reyes",
            signer_credentials="LCSW",
            signer_id="dana",
        ),
        effective=date(2026, 1, 12),
        rationale="Signed on paper on the 12th; entered late.",
    )
    b.run(c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis"))
    got = line(b, date(2026, 1, 20))
    clinician = got["clinician_signature"]
    assert isinstance(clinician, dict)
    assert clinician["signed"] is True
    assert clinician["signed_on"] == "2026-01-12"
    assert clinician["recorded_after_service"] is True
    assert got["ok"] is False
    assert "recorded on 2026-02-01, after this date" in str(got["summary"])


def test_a_clinician_signature_without_credentials_does_not_count() -> None:
    b, _ = depression_plan(sign=False)
    sign_as_clinician(b, credentials=None)
    b.run(c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis"))
    got = line(b, date(2026, 2, 2))
    assert got["clinician_signature"]["signed"] is False  # type: ignore[index]
    assert got["ok"] is False
    assert "SIGNATURE_WITHOUT_CREDENTIALS" in {f["code"] for f in got["findings"]}  # type: ignore[attr-defined]


def test_an_overdue_review_and_an_old_plan_are_not_ok() -> None:
    b = signed_on_the_tenth()
    got = line(b, date(2026, 4, 20))
    assert got["review_overdue"] is True
    assert got["ok"] is False
    assert "REVIEW_OVERDUE" in {f["code"] for f in got["findings"]}  # type: ignore[attr-defined]
    assert str(got["summary"]).endswith(": the review was overdue")
    strict = RuleProfile(plan_max_age_days=30, review_interval_days=365)
    [old] = service_date_lines([b.events], [ServiceDate(date(2026, 3, 1))], strict)
    assert old["under_a_year"] is False
    assert old["ok"] is False


def test_the_successor_plan_answers_after_the_first_is_discharged() -> None:
    first = signed_on_the_tenth()
    on_day(first, date(2026, 5, 4))
    first.run(c.DischargePlan(reason="Goals met; stepping down to a new plan."))
    second = PlanBuilder(datetime(2026, 5, 4, 11, 0, tzinfo=UTC), end=date(2027, 4, 30))
    sign_as_clinician(second)
    second.run(c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis"))
    dates = [
        ServiceDate(date(2026, 4, 1)),
        ServiceDate(date(2026, 5, 4)),
        ServiceDate(date(2026, 5, 11)),
    ]
    lines = service_date_lines([first.events, second.events], dates, PROFILE)
    # On the day of the discharge both cover it: the latest opened is the one in effect.
    assert [x["plan_id"] for x in lines] == [
        str(first.plan_id),
        str(second.plan_id),
        str(second.plan_id),
    ]
    assert all(x["ok"] for x in lines)


def test_lines_come_in_the_order_asked_even_when_dates_repeat() -> None:
    b = signed_on_the_tenth()
    dates = [
        ServiceDate(date(2026, 3, 3), ("90837",)),
        ServiceDate(date(2026, 2, 3)),
        ServiceDate(date(2026, 3, 3), ("90785",)),
    ]
    lines = service_date_lines([b.events], dates, PROFILE)
    assert [(x["date"], x["cpt_codes"]) for x in lines] == [
        ("2026-03-03", ["90837"]),
        ("2026-02-03", []),
        ("2026-03-03", ["90785"]),
    ]


# ------------------------------------------------------------------------------ parsing
def test_parse_one_date_a_line_with_optional_codes() -> None:
    text = "2026-03-03 90837\n\n# intake\n2026-01-07, 90791,90785\n2026-03-10\n"
    assert parse_service_dates(text) == [
        ServiceDate(date(2026, 3, 3), ("90837",)),
        ServiceDate(date(2026, 1, 7), ("90791", "90785")),
        ServiceDate(date(2026, 3, 10)),
    ]


def test_parse_a_csv_with_a_date_cpt_header() -> None:
    text = "date,cpt\n2026-03-03,90837\n2026-03-10,\n2026-03-17,90837 90785\n"
    assert parse_service_dates(text) == [
        ServiceDate(date(2026, 3, 3), ("90837",)),
        ServiceDate(date(2026, 3, 10)),
        ServiceDate(date(2026, 3, 17), ("90837", "90785")),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-03-03\n03/10/2026\n", "line 2: '03/10/2026' is not a date"),
        ("2026-02-30\n", "line 1: '2026-02-30' is not a date"),
        ("2026-03-03 9083\n", "line 1: '9083' is not a CPT code"),
        ("date,cpt\n2026-03-03,90837\nnext week,90837\n", "line 3: 'next week' is not a date"),
        ("\n# nothing\n", "no dates of service given"),
    ],
)
def test_parse_refuses_a_bad_line_naming_it(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_service_dates(text)
    assert message in raised.value.message


# ------------------------------------------------------------------ signature coverage
def revised_unsigned_on_the_first_of_february() -> PlanBuilder:
    """Signed on 10 January, then its discharge criteria revised on 1 February, unsigned."""
    b = signed_on_the_tenth()
    on_day(b, date(2026, 2, 1))
    b.run(
        c.SetDischargeCriteria(criteria=["PHQ-9 under 10 at two reviews in a row"]),
        rationale="Criteria made measurable.",
    )
    return b


def test_an_unsigned_revision_before_a_date_of_service_is_not_ok_and_named() -> None:
    b = revised_unsigned_on_the_first_of_february()
    before = line(b, date(2026, 1, 20), "90837")
    assert before["ok"] is True, "the revision took effect after this date"
    assert before["unsigned_changes"] == []
    after = line(b, date(2026, 2, 5), "90837")
    assert after["ok"] is False
    assert after["clinician_signed_version"] == before["clinician_signed_version"]
    [change] = after["unsigned_changes"]
    assert change["items"] == ["Discharge criteria"]
    assert change["effective_date"] == "2026-02-01"
    summary = str(after["summary"])
    assert f"version {change['version']} (in effect 2026-02-01): Discharge criteria" in summary
    assert "the clinician had not signed" in summary
    assert summary.endswith(
        ": changes in effect that day that the clinician had not signed: "
        f"version {change['version']} (in effect 2026-02-01): "
        "Discharge criteria"
    )
    codes = [f["code"] for f in after["findings"]]
    assert "UNSIGNED_CHANGES" in codes


def test_the_clinician_signing_the_revision_makes_later_dates_ok() -> None:
    b = revised_unsigned_on_the_first_of_february()
    on_day(b, date(2026, 2, 3))
    sign_as_clinician(b)
    b.run(c.CaptureSignature(role="client", meaning="agreed", signer_name="Jordan Ellis"))
    assert line(b, date(2026, 2, 2))["ok"] is False, "unsigned that day"
    later = line(b, date(2026, 2, 5))
    assert later["ok"] is True
    assert later["unsigned_changes"] == []


def test_the_grace_days_of_the_profile_soften_the_rule() -> None:
    b = revised_unsigned_on_the_first_of_february()
    lenient = RuleProfile(unsigned_change_grace_days=14)
    [within] = service_date_lines([b.events], [ServiceDate(date(2026, 2, 5))], lenient)
    [past] = service_date_lines([b.events], [ServiceDate(date(2026, 2, 20))], lenient)
    assert within["unsigned_changes"] == []
    assert within["ok"] is True
    assert past["ok"] is False
