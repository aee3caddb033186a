"""Each resource's narrative (``text``): a short XHTML summary generated from the resource's
own elements, so a person reading the resource in any FHIR viewer sees what it says. Every
value is escaped: a plan's free text (a goal statement, a rationale) can hold ``<`` or ``&``
and must never become markup. ``status`` is ``generated``: nothing is added by hand. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

__all__ = ["with_text"]

XHTML = "http://www.w3.org/1999/xhtml"


def _text(value: Any) -> str | None:
    """A CodeableConcept, Reference, HumanName or plain value as words."""
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("text", "display", "code"):
            if isinstance(value.get(key), str):
                return str(value[key])
        for coding in value.get("coding", []):
            if coding.get("display") or coding.get("code"):
                return str(coding.get("display") or coding.get("code"))
        return None
    if isinstance(value, list):
        found = [t for t in (_text(v) for v in value) if t]
        return "; ".join(found) if found else None
    return str(value)


def _care_plan(r: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    period = r.get("period", {})
    return r.get("title", "Care plan"), [
        ("Status", r.get("status")),
        ("Category", _text(r.get("category"))),
        ("Period", f"{period.get('start', '?')} to {period.get('end', '?')}"),
        ("Author", _text(r.get("author"))),
        ("Addresses", _text(r.get("addresses"))),
        ("Goals", _text(r.get("goal"))),
        ("Activities", "; ".join(a["detail"]["description"] for a in r.get("activity", []))),
    ]


def _patient(r: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    return _text(r.get("name")) or "Patient", [
        ("Birth date", r.get("birthDate")),
        ("Client id", _text([{"text": i["value"]} for i in r.get("identifier", [])])),
        ("Guardian", _guardians(r.get("contact", []))),
    ]


def _guardians(contacts: list[dict[str, Any]]) -> str | None:
    """Each contact as "name (relationship)": a minor's guardian."""
    found = [
        f"{_text(c.get('name')) or '?'} ({_text(c.get('relationship')) or 'contact'})"
        for c in contacts
    ]
    return "; ".join(found) if found else None


def _practitioner(r: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    credentials = [q.get("code") for q in r.get("qualification", [])]
    return _text(r.get("name")) or "Practitioner", [("Credentials", _text(credentials))]


def _condition(r: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    return _text(r.get("code")) or "Condition", [
        ("Clinical status", _text(r.get("clinicalStatus"))),
        ("Category", _text(r.get("category"))),
        ("Onset", r.get("onsetDateTime")),
        ("Abated", r.get("abatementDateTime")),
    ]


def _goal(r: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    label = _text([{"text": i["value"]} for i in r.get("identifier", [])])
    target = (r.get("target") or [{}])[0]
    return f"{label}: {_text(r.get('description'))}" if label else "Goal", [
        ("Lifecycle status", r.get("lifecycleStatus")),
        ("Achievement", _text(r.get("achievementStatus"))),
        ("Measure", _text(target.get("measure"))),
        ("Due", target.get("dueDate")),
        ("Start", r.get("startDate")),
    ]


def _observation(r: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    value = r.get("valueQuantity", {}).get("value")
    return _text(r.get("code")) or "Observation", [
        ("Score", value),
        ("Administered on", r.get("effectiveDateTime")),
        ("Status", r.get("status")),
    ]


def _provenance(r: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    return _text(r.get("activity")) or "Provenance", [
        ("Recorded", r.get("recorded")),
        ("Occurred", r.get("occurredDateTime") or _text(r.get("occurredPeriod", {}).get("end"))),
        ("By", _text([a.get("who") for a in r.get("agent", [])])),
        ("Target", _text([{"text": t.get("reference")} for t in r.get("target", [])])),
        ("Reason", _text(r.get("reason"))),
    ]


def _task(r: dict[str, Any]) -> tuple[str, list[tuple[str, Any]]]:
    return _text(r.get("code")) or "Task", [
        ("Status", r.get("status")),
        ("Requested change", r.get("description")),
        ("Received", r.get("authoredOn")),
        ("Due", r.get("restriction", {}).get("period", {}).get("end")),
        ("Decided", r.get("lastModified")),
    ]


_SUMMARIES: dict[str, Callable[[dict[str, Any]], tuple[str, list[tuple[str, Any]]]]] = {
    "CarePlan": _care_plan,
    "Patient": _patient,
    "Practitioner": _practitioner,
    "Condition": _condition,
    "Goal": _goal,
    "Observation": _observation,
    "Provenance": _provenance,
    "Task": _task,
}


def narrative(resource: dict[str, Any]) -> dict[str, str]:
    """The resource's ``text``: its headline and the facts that name it, escaped."""
    title, facts = _SUMMARIES[resource["resourceType"]](resource)
    items = "".join(
        f"<li>{escape(label)}: {escape(str(value))}</li>"
        for label, value in facts
        if value not in (None, "")
    )
    body = f"<p><b>{escape(title)}</b></p>" + (f"<ul>{items}</ul>" if items else "")
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{body}</div>'}


def with_text(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` with its narrative after ``id`` and ``meta``, as FHIR's examples order it."""
    head: dict[str, Any] = {k: resource[k] for k in ("resourceType", "id", "meta") if k in resource}
    rest = {k: v for k, v in resource.items() if k not in head and k != "text"}
    resource.clear()
    resource.update({**head, "text": narrative({**head, **rest}), **rest})
    return resource
