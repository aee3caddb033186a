"""The words an auditor or a supervisor reads for the engine's identifiers: statuses, verdicts,
roles, field names in diffs and yes/no for booleans. The one vocabulary of every page, packet
and CLI table, so that ``partially_met`` reads "partially met" everywhere and a change to
``objectives[Objective 2.1].target_date`` reads "Objective 2.1: target date".

Identifiers stay what they are in the data (events, JSON, digests); only their rendering uses
these words.
"""

from __future__ import annotations

import re

__all__ = ["field_path", "word", "yes_no"]

WORDS: dict[str, str] = {
    # Statuses of plans, items, signatures, requests and amendments.
    "in_progress": "in progress",
    "partially_met": "partially met",
    "not_met": "not met",
    "no_longer_relevant": "no longer relevant",
    "not_started": "not started",
    # Copy-forward verdicts and entry kinds.
    "copied_forward": "copied forward",
    "late_entry": "late entry",
    # Review reasons.
    "scheduled": "scheduled",
    "client_request": "at the client's request",
    # Amendment decisions.
    "accurate_and_complete": "accurate and complete",
    "not_created_by_practice": "not created by the practice",
    "not_in_designated_record_set": "not in the designated record set",
    "not_available_for_inspection": "not available for inspection",
}
"""Identifiers whose words are more than the identifier with spaces."""

FIELDS: dict[str, str] = {
    "target_date": "target date",
    "client_words": "client's words",
    "diagnosis_codes": "diagnosis codes",
    "problem_ids": "problems",
    "objective_ids": "objectives",
    "goal_id": "goal",
    "discharge_criteria": "discharge criteria",
    "safety_plan": "safety plan",
    "warning_signs": "warning signs",
    "coping_strategies": "coping strategies",
    "means_restriction": "means restriction",
    "estimated_sessions": "estimated sessions",
    "session_frequency": "session frequency",
    "plan_end_date": "plan end date",
    "review_interval_days": "review interval (days)",
    "session_minutes": "session minutes",
    "service_type": "service type",
}


def word(value: object) -> str:
    """The words for an identifier ('partially_met' → 'partially met'); '' for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    text = str(value)
    return WORDS.get(text) or text.replace("_", " ")


def yes_no(value: object) -> str:
    return "yes" if value else "no"


_STEP = re.compile(r"\.?([A-Za-z_]+)(?:\[([^\]]*)\])?")


def field_path(path: str) -> str:
    """A diff's path in words: 'objectives[Objective 2.1].target_date' → 'Objective 2.1: target
    date'; 'measure.baseline' → 'measure: baseline'; 'discharge_criteria[2]' → 'discharge
    criteria, item 3'. A path it cannot read is shown as it is."""
    out: list[str] = []
    at = 0
    while at < len(path):
        match = _STEP.match(path, at)
        if match is None or match.end() == at:
            return path
        name, key = match.groups()
        if key is not None and not key.isdigit():
            out.append(key)  # the item's label stands for its section
        elif key is not None:
            out.append(f"{FIELDS.get(name, word(name))}, item {int(key) + 1}")
        else:
            out.append(FIELDS.get(name, word(name)))
        at = match.end()
    return ": ".join(out)
