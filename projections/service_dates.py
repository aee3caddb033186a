"""Dates of service checked against the plan in effect on each: the audit lines.

An auditor (a payer, Medicaid, a licensing board) brings a list of dates of service, often with
the CPT codes billed, and asks for each: was a plan in clinical effect, signed by the clinician
with credentials and by the client *before* the service, under a year old, and its review not
overdue? Each answer is read on the clinical axis (the events effective by the date) of the
client's plan in effect then; a signature recorded after the service, though dated before it,
is shown as such (``recorded_after_service``) because the chart did not carry it on that day.

``parse_service_dates`` reads the auditor's list (one date a line, optional CPT codes; or a CSV
with a ``date,cpt`` header) for the CLI and the audit packet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from plantrail.domain.errors import InvalidInput
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState, Signature, fold
from plantrail.projections.document import next_review_due
from plantrail.projections.findings import listed_changes, plan_findings
from plantrail.projections.period_findings import clinical_scans
from plantrail.projections.profile import RuleProfile
from plantrail.projections.signatures import ContentChange, rfc3339, signer_text, unsigned_changes

__all__ = [
    "MAX_SERVICE_DATES",
    "ServiceDate",
    "parse_service_dates",
    "service_date_lines",
]

MAX_SERVICE_DATES = 1000
"""Dates in one audit request: a year of weekly sessions for a dozen clients fits."""

CPT_CODE = re.compile(r"^[0-9A-Z]{5}$")
"""A CPT or HCPCS code: five characters (``90837``, ``H0031``); modifiers are not codes."""


@dataclass(frozen=True)
class ServiceDate:
    """One date of service and the codes billed for it."""

    date: date
    cpt_codes: tuple[str, ...] = ()


# ------------------------------------------------------------------------------ parsing
def _code(text: str, where: str) -> str:
    code = text.strip().upper()
    if not CPT_CODE.fullmatch(code):
        raise InvalidInput.on(where, f"{text.strip()!r} is not a CPT code (five characters)")
    return code


def _day(text: str, where: str) -> date:
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput.on(where, f"{text.strip()!r} is not a date (YYYY-MM-DD)") from None


def _csv_dates(text: str) -> list[ServiceDate]:
    out = []
    reader = csv.reader(io.StringIO(text))
    next(reader)  # the header, already checked
    for number, row in enumerate(reader, start=2):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        where = f"line {number}"
        codes = [c for cell in cells[1:] for c in re.split(r"[\s;]+", cell) if c]
        out.append(ServiceDate(_day(cells[0], where), tuple(_code(c, where) for c in codes)))
    return out


def parse_service_dates(text: str) -> list[ServiceDate]:
    """Dates of service from an auditor's list: one date (``YYYY-MM-DD``) a line, optionally
    followed by CPT codes separated by spaces or commas; or a CSV whose header is ``date,cpt``.
    Blank lines and ``#`` comments are skipped; a bad line is refused with its number."""
    lines = text.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.lower().replace(" ", "").startswith("date,cpt"):
        out = _csv_dates(text)
    else:
        out = []
        for number, line in enumerate(lines, start=1):
            content = line.split("#", 1)[0].strip()
            if not content:
                continue
            where = f"line {number}"
            head, *codes = [part for part in re.split(r"[\s,]+", content) if part]
            out.append(ServiceDate(_day(head, where), tuple(_code(c, where) for c in codes)))
    if not out:
        raise InvalidInput.on("dates_of_service", "no dates of service given")
    if len(out) > MAX_SERVICE_DATES:
        raise InvalidInput.on(
            "dates_of_service", f"{len(out)} dates; at most {MAX_SERVICE_DATES} in one audit"
        )
    return out


# ------------------------------------------------------------------------------ the lines
@dataclass
class _OnDay:
    """One plan on one date of service: the facts the line needs, taken while the scan of
    that day is at hand (it is shared with later days)."""

    plan_index: int
    state: PlanState
    version: int
    clinician: Signature | None
    client: Signature | None
    due: date
    overdue: bool
    findings: list[dict[str, Any]]
    attested: Signature | None = None
    """The clinician's newest unrevoked signature in effect that day (signature coverage)."""
    unsigned: tuple[ContentChange, ...] = ()
    """Changes in effect that day that no clinician signature covers."""


def _signed_by(state: PlanState, roles: tuple[str, ...], day: date) -> Signature | None:
    """The unrevoked signature by one of ``roles`` in effect on ``day`` that best covers it: one
    recorded by the day before one recorded later, then the earliest; clinicians need
    credentials (Medicare: a signature with credentials)."""
    found = [
        s
        for s in state.signatures.values()
        if s.role in roles
        and s.revoked_version is None
        and s.effective_date <= day
        and (roles != ("clinician",) or s.signer_credentials)
    ]
    if not found:
        return None
    return min(found, key=lambda s: (s.signed_at.date() > day, s.effective_date, s.signed_version))


def _in_effect(state: PlanState, day: date) -> bool:
    """Whether the plan (as in effect on ``day``) covers that day: opened by then and not
    discharged before it."""
    return state.effective_date <= day and (
        state.discharged_on is None or state.discharged_on >= day
    )


def _plan_days(
    index: int,
    events: Sequence[PlanEvent],
    days: Sequence[date],
    profile: RuleProfile,
    coverage: bool,
) -> dict[date, _OnDay]:
    out: dict[date, _OnDay] = {}
    for day, scan, shown in clinical_scans(events, profile, days):
        state = scan.state
        if state is None or not _in_effect(state, day):
            continue
        due = next_review_due(state, profile.review_interval_days)
        attested, unsigned = unsigned_changes(state, shown) if coverage else (None, [])
        first = min((c.effective_date for c in unsigned if c.effective_date), default="")
        if first and (day - date.fromisoformat(first)).days < profile.unsigned_change_grace_days:
            unsigned = []  # within the practice's grace for signing a change
        out[day] = _OnDay(
            index,
            state,
            state.version,
            _signed_by(state, ("clinician",), day),
            _signed_by(state, ("client", "guardian"), day),
            due,
            # The REVIEW_OVERDUE rule (active plans only), even when a practice hides the code.
            state.status == "active" and (day - due).days > profile.review_grace_days,
            plan_findings(state, shown, profile, day, scan=scan),
            attested,
            tuple(unsigned),
        )
    return out


def _signature(found: Signature | None, day: date) -> dict[str, Any]:
    if found is None:
        return {
            "signed": False,
            "signer": None,
            "credentials": None,
            "signed_on": None,
            "recorded_at": None,
            "recorded_after_service": False,
        }
    return {
        "signed": True,
        "signer": found.signer_name,
        "credentials": found.signer_credentials,
        "signed_on": found.effective_date.isoformat(),
        "recorded_at": rfc3339(found.signed_at),
        "recorded_after_service": found.signed_at.date() > day,
    }


def _later_signature(final: PlanState | None, roles: tuple[str, ...], day: date) -> str:
    """How a missing signature reads when the plan was signed only later (" (signed …)")."""
    dates = sorted(
        s.effective_date
        for s in (final.signatures.values() if final is not None else ())
        if s.role in roles and s.revoked_version is None and s.effective_date > day
    )
    return f" (signed {dates[0].isoformat()})" if dates else ""


def _no_plan(service: ServiceDate, finals: Sequence[PlanState | None]) -> str:
    later = sorted(
        s.effective_date for s in finals if s is not None and s.effective_date > service.date
    )
    if later:
        return f"no plan in effect (the plan took effect on {later[0].isoformat()})"
    ended = sorted(s.discharged_on for s in finals if s is not None and s.discharged_on is not None)
    if ended:
        return f"no plan in effect (discharged on {ended[-1].isoformat()})"
    return "no plan in effect"


def _line(
    service: ServiceDate,
    on: _OnDay | None,
    finals: Sequence[PlanState | None],
    profile: RuleProfile,
    coverage_rule: bool,
) -> dict[str, Any]:
    day = service.date
    codes = f" ({', '.join(service.cpt_codes)})" if service.cpt_codes else ""
    head = f"{day.isoformat()}{codes}: "
    if on is None:
        return {
            "date": day.isoformat(),
            "cpt_codes": list(service.cpt_codes),
            "plan_id": None,
            "plan_version": None,
            "plan_in_effect": False,
            "clinician_signature": _signature(None, day),
            "client_signature": _signature(None, day),
            "plan_effective_date": None,
            "plan_age_days": None,
            "under_a_year": None,
            "next_review_due": None,
            "review_overdue": None,
            "findings": [],
            "ok": False,
            "summary": head + _no_plan(service, finals) + ": NOT OK",
        }
    state = on.state
    age = (day - state.effective_date).days
    under_a_year = age <= profile.plan_max_age_days
    active = state.status != "draft"
    clinician, client = _signature(on.clinician, day), _signature(on.client, day)
    problems = []
    notes = [f"plan v{on.version} in effect" if active else f"plan v{on.version} is a draft"]
    final = finals[on.plan_index]
    coverage: dict[str, Any] = {}
    if coverage_rule:
        attested = on.attested
        coverage = {
            "clinician_signed_version": attested.signed_version if attested else None,
            "unsigned_changes": [c.as_dict() for c in on.unsigned],
        }
        if attested is not None:
            notes.append(
                f"version {attested.signed_version} signed by "
                f"{signer_text(attested.signer_name, attested.signer_credentials)} on "
                f"{attested.effective_date.isoformat()}"
            )
        if on.unsigned:
            problems.append(
                "changes in effect that day that the clinician had not signed: "
                + listed_changes(on.unsigned)
            )
    if on.clinician is None:
        problems.append(
            "NOT signed by the clinician with credentials before this date"
            + _later_signature(final, ("clinician",), day)
        )
    else:
        if not coverage_rule:
            notes.append(
                "signed by "
                + signer_text(on.clinician.signer_name, on.clinician.signer_credentials)
                + f" on {clinician['signed_on']}"
            )
        if clinician["recorded_after_service"]:
            problems.append(
                f"the clinician's signature was recorded on {clinician['recorded_at'][:10]}, "
                "after this date"
            )
    if on.client is None:
        problems.append(
            "NOT signed by the client before this date"
            + _later_signature(final, ("client", "guardian"), day)
        )
    else:
        notes.append(f"client signed {client['signed_on']}")
        if client["recorded_after_service"]:
            problems.append(
                f"the client's signature was recorded on {client['recorded_at'][:10]}, "
                "after this date"
            )
    notes.append(f"{age} days old")
    if not under_a_year:
        problems.append(f"the plan is older than {profile.plan_max_age_days} days")
    notes.append(f"next review due {on.due.isoformat()}")
    if on.overdue:
        problems.append("the review was overdue")
    if not active:
        problems.append("the plan was not yet signed into effect")
    ok = not problems
    summary = head + "; ".join(notes) + (": OK" if ok else ": " + "; ".join(problems))
    return {
        "date": day.isoformat(),
        "cpt_codes": list(service.cpt_codes),
        "plan_id": str(state.plan_id),
        "plan_version": on.version,
        "plan_in_effect": active,
        "clinician_signature": clinician,
        "client_signature": client,
        "plan_effective_date": state.effective_date.isoformat(),
        "plan_age_days": age,
        "under_a_year": under_a_year,
        "next_review_due": on.due.isoformat(),
        "review_overdue": on.overdue,
        "findings": on.findings,
        **coverage,
        "ok": ok,
        "summary": summary,
    }


def service_date_lines(
    plans: Sequence[Sequence[PlanEvent]],
    dates: Sequence[ServiceDate],
    profile: RuleProfile,
    *,
    coverage: bool = True,
) -> list[dict[str, Any]]:
    """One audit line per date of service, in the order given (see module docstring). Each of
    ``plans`` is one plan's events, already cut to any recorded bound; on each date the plan in
    clinical effect is taken (opened by then, not discharged before it; the latest opened when
    several are). ``coverage`` applies the signature coverage rule: the line names the version the
    clinician's signature in effect covers and is not OK when changes it does not cover were in
    effect that day (False only to rebuild a packet of format 1, made before the rule)."""
    days = sorted({d.date for d in dates})
    per_plan = [_plan_days(i, events, days, profile, coverage) for i, events in enumerate(plans)]
    finals = [fold(events) for events in plans]
    lines = []
    for service in dates:
        candidates = [p[service.date] for p in per_plan if service.date in p]
        # Several plans cover the day (a successor opened before the old one was discharged):
        # the latest opened is the one in effect.
        on = max(
            candidates,
            key=lambda c: (c.state.effective_date, c.state.opened_at),
            default=None,
        )
        lines.append(_line(service, on, finals, profile, coverage))
    return lines
