"""Diff between two points of a plan (docs/domain.md, Projections 4): item by item, in words
and as data.

Items are matched by their stable ids, so a renamed statement is a change of that item, never a
removal plus an addition. Each change names the item (id and label), the field path, the kind
(``added``, ``removed``, ``changed``), the values before and after, and a sentence a supervisor
can read ("Objective 1.2 target changed from 4 to 7 activities a week"). The revision log words
its entries with the same helpers, so both views say the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from plantrail.domain.plan import PlanState
from plantrail.projections.document import plan_document
from plantrail.projections.signatures import signer_text

__all__ = ["SECTIONS", "document_diff", "field_summary", "fmt", "plan_diff", "quote", "words"]

SECTIONS: tuple[str, ...] = (
    "plan",
    "diagnoses",
    "problems",
    "goals",
    "objectives",
    "interventions",
    "measurements",
    "strengths",
    "barriers",
    "timeline",
    "discharge_criteria",
    "safety_plan",
    "reviews",
    "signatures",
    "signature_requests",
)
"""Every section a diff can report, in the order changes are listed."""

_PLAN_FIELDS = (
    "status",
    "client",
    "clinician",
    "supervisor",
    "effective_date",
    "plan_end_date",
    "activated_on",
    "review_interval_days",
    "next_review_due",
    "service_type",
    "session_minutes",
    "participants",
    "discharged_on",
    "discharge_reason",
)
_BOOKKEEPING = frozenset(
    {
        "id",
        "label",
        "added_version",
        "changed_version",
        "entry_kind",
        "effective_date",
        "amendment_ids",
    }
)
_COMPARED: dict[str, tuple[str, ...]] = {
    # Recorded facts that never change once written: only their status moves.
    "measurements": ("voided",),
    "reviews": ("reason", "status"),
    "signatures": ("status",),
    "signature_requests": ("status",),
}
_LINKS = {
    "diagnosis_codes": "diagnoses",
    "problem_ids": "linked problems",
    "objective_ids": "linked objectives",
}
_TEXT_FIELDS = frozenset({"statement", "technique", "client_words", "description", "text"})


def fmt(value: Any) -> str:
    """A value as a reader would write it: 4.0 as 4, a list comma-separated, None as 'none'."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value) or "none"
    if isinstance(value, Mapping):
        return ", ".join(f"{words(str(k))} {fmt(v)}" for k, v in value.items() if v is not None)
    return str(value)


def words(value: str) -> str:
    """'partially_met' as 'partially met'."""
    return value.replace("_", " ")


def quote(text: str | None, limit: int = 80) -> str:
    """Clinical text in quotes, shortened for a one-line summary."""
    if text is None:
        return "none"
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


def _measure_unit(measure: Mapping[str, Any] | None) -> str:
    if not measure:
        return ""
    unit = measure.get("unit")
    return f" {unit}" if unit else f" ({measure.get('instrument')})"


def field_summary(
    section: str,
    label: str,
    field: str,
    before: Any,
    after: Any,
    *,
    item: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """One sentence for one changed field. ``item`` is the item after the change (for units and
    superseding versions), ``labels`` maps ids to labels (for links between items)."""
    item = item or {}
    labels = labels or {}
    if field == "status":
        return _status_summary(section, label, before, after, item)
    if field == "voided":
        return f"{label} voided" if after else f"{label} no longer voided"
    if field in _LINKS:
        names = (
            [labels.get(str(v), str(v)) for v in (before or [])],
            [labels.get(str(v), str(v)) for v in (after or [])],
        )
        return f"{label} {_LINKS[field]} changed from {fmt(names[0])} to {fmt(names[1])}"
    if field.startswith("measure.") or field == "measure":
        return _measure_summary(label, field, before, after, item.get("measure"))
    if field == "target_date":
        return f"{label} target date changed from {fmt(before)} to {fmt(after)}"
    if field in _TEXT_FIELDS:
        return f"{label} {words(field)} changed from {quote(before)} to {quote(after)}"
    if section == "safety_plan":
        return f"Safety plan {words(field)} changed from {fmt(before)} to {fmt(after)}"
    if section == "discharge_criteria":
        added = [c for c in after or [] if c not in (before or [])]
        removed = [c for c in before or [] if c not in (after or [])]
        parts = [f"added {quote(c)}" for c in added] + [f"removed {quote(c)}" for c in removed]
        return "Discharge criteria changed: " + ("; ".join(parts) or "reordered")
    name = words(field.rsplit(".", 1)[-1])
    return f"{label} {name} changed from {fmt(before)} to {fmt(after)}"


def _measure_summary(
    label: str, field: str, before: Any, after: Any, measure: Mapping[str, Any] | None
) -> str:
    if field == "measure":
        if after is None:
            return f"{label} measure removed"
        return (
            f"{label} measure set: {after.get('instrument')} from {fmt(after.get('baseline'))} "
            f"to {fmt(after.get('target'))}{_measure_unit(after) if after.get('unit') else ''}"
        )
    part = field.split(".", 1)[1]
    if part in ("target", "baseline"):
        return f"{label} {part} changed from {fmt(before)} to {fmt(after)}{_measure_unit(measure)}"
    return f"{label} {words(part)} changed from {fmt(before)} to {fmt(after)}"


def _status_summary(
    section: str, label: str, before: Any, after: Any, item: Mapping[str, Any]
) -> str:
    if section == "problems" and after == "resolved":
        return f"{label} resolved"
    if section == "interventions" and after == "discontinued":
        return f"{label} discontinued"
    if section == "signatures" and after == "superseded":
        return f"{label} superseded by version {item.get('superseded_by_version')}"
    if section == "signatures" and after == "revoked":
        return f"{label} revoked at version {item.get('revoked_version')}"
    if section == "signature_requests" and after == "fulfilled":
        return f"{label} fulfilled"
    if section == "reviews" and after == "completed":
        return f"{label} completed"
    if section == "plan":
        return "Plan discharged" if after == "discharged" else f"Plan became {after} (was {before})"
    if before is None:
        return f"{label} marked {words(str(after))}"
    return f"{label} marked {words(str(after))} (was {words(str(before))})"


def added_summary(section: str, label: str, item: Mapping[str, Any]) -> str:
    """One sentence for an item that appeared."""
    if section == "diagnoses":
        primary = " (primary)" if item.get("primary") else ""
        return f"Diagnosis {item.get('code')} added: {item.get('description')}{primary}"
    if section in ("problems", "goals", "objectives"):
        return f"{label} added: {quote(item.get('statement'))}"
    if section == "interventions":
        return (
            f"{label} added: {item.get('modality')}, {quote(item.get('technique'), 60)}, "
            f"{item.get('frequency')}"
        )
    if section == "measurements":
        return (
            f"{label}: {item.get('instrument')} {fmt(item.get('score'))} administered "
            f"{item.get('administered_on')}"
        )
    if section in ("strengths", "barriers"):
        return f"{section[:-1].capitalize()} noted: {quote(item.get('text'))}"
    if section == "reviews":
        state = "completed" if item.get("status") == "completed" else "started"
        return f"{label} {state} ({words(str(item.get('reason')))})"
    if section == "signatures":
        return label if item.get("status") == "current" else f"{label}, now {item.get('status')}"
    if section == "signature_requests":
        return f"{label} ({item.get('status')})"
    if section == "timeline":
        return f"Timeline set: {fmt(item)}"
    if section == "safety_plan":
        return (
            f"Safety plan set: {len(item.get('warning_signs', []))} warning signs, "
            f"{len(item.get('coping_strategies', []))} coping strategies, "
            f"{len(item.get('contacts', []))} contacts, "
            f"{len(item.get('means_restriction', []))} means restriction steps"
        )
    if section == "discharge_criteria":
        return "Discharge criteria set: " + "; ".join(
            quote(c, 60) for c in item.get("criteria", [])
        )
    return f"{label} added"


def _label(section: str, item: Mapping[str, Any], index: int) -> str:
    if "label" in item:
        return str(item["label"])
    if section == "diagnoses":
        return f"Diagnosis {item['code']}"
    if section in ("strengths", "barriers"):
        return f"{section[:-1].capitalize()} {index + 1}"
    if section == "signatures":
        return (
            f"Signature of {signer_text(item['signer_name'], item['signer_credentials'])} "
            f"({item['role']}, {item['meaning']})"
        )
    if section == "signature_requests":
        return f"Co-signature request to {item['signer_name']} ({item['role']}, {item['meaning']})"
    return words(section).capitalize()


def _leaves(prefix: str, before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """The differing leaf fields of two values (dicts are walked, lists compared whole)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[tuple[str, Any, Any]] = []
        for key in [*before, *(k for k in after if k not in before)]:
            out.extend(
                _leaves(f"{prefix}.{key}" if prefix else str(key), before.get(key), after.get(key))
            )
        return out
    return [] if before == after else [(prefix, before, after)]


def _items(document: Mapping[str, Any], section: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Items of one section by id: (label, item)."""
    if section == "plan":
        return {document["plan_id"]: ("Plan", {f: document[f] for f in _PLAN_FIELDS})}
    if section == "timeline":
        timeline = document["timeline"]
        return {"timeline": ("Timeline", timeline)} if timeline is not None else {}
    if section == "safety_plan":
        safety = document.get("safety_plan")
        if safety is None:
            return {}
        content = {k: v for k, v in safety.items() if k not in ("set_version", "effective_date")}
        return {"safety_plan": ("Safety plan", content)}
    if section == "discharge_criteria":
        criteria = document["discharge_criteria"]
        return (
            {"discharge_criteria": ("Discharge criteria", {"criteria": criteria})}
            if criteria
            else {}
        )
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for index, item in enumerate(document[section]):
        key = str(item.get("id") or item.get("code"))
        out[key] = (_label(section, item, index), item)
    return out


def _labels(*documents: Mapping[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for document in documents:
        for section in ("problems", "goals", "objectives", "interventions"):
            labels.update({item["id"]: item["label"] for item in document[section]})
    return labels


def _path(section: str, label: str, field: str | None) -> str:
    if section in ("plan", "timeline", "discharge_criteria", "safety_plan"):
        base = section
    else:
        base = f"{section}[{label}]"
    return f"{base}.{field}" if field else base


def _plain(item: Mapping[str, Any], section: str) -> dict[str, Any]:
    keep = _COMPARED.get(section)
    return {
        k: v
        for k, v in item.items()
        if k not in _BOOKKEEPING and k != "manifestation" and (keep is None or k in keep)
    }


def plan_diff(
    before: PlanState, after: PlanState, *, sections: Sequence[str] = SECTIONS
) -> dict[str, Any]:
    """Item-by-item changes from ``before`` to ``after`` (either may be the later one).

    Returns ``from_version``, ``to_version`` and ``changes``: each ``item_id``, ``label``,
    ``path``, ``kind`` (added, removed, changed), ``before``, ``after`` and ``summary``.
    ``sections`` limits the diff (the review history leaves out measurements and reviews)."""
    return document_diff(
        plan_document(before, today=before.plan_end_date),
        plan_document(after, today=after.plan_end_date),
        sections=sections,
    )


def document_diff(
    old: Mapping[str, Any], new: Mapping[str, Any], *, sections: Sequence[str] = SECTIONS
) -> dict[str, Any]:
    """``plan_diff`` of two plan documents (``plan_document``) already at hand: the audit
    packet words every revision from the documents it takes before and after each event."""
    labels = _labels(old, new)
    changes: list[dict[str, Any]] = []
    for section in sections:
        was, now = _items(old, section), _items(new, section)
        for key in [*was, *(k for k in now if k not in was)]:
            item_id = None if section in ("timeline", "discharge_criteria", "safety_plan") else key
            if key not in now:
                label, item = was[key]
                changes.append(
                    {
                        "item_id": item_id,
                        "label": label,
                        "path": _path(section, label, None),
                        "kind": "removed",
                        "before": _plain(item, section),
                        "after": None,
                        "summary": f"{label} removed",
                    }
                )
                continue
            label, item = now[key]
            if key not in was:
                changes.append(
                    {
                        "item_id": item_id,
                        "label": label,
                        "path": _path(section, label, None),
                        "kind": "added",
                        "before": None,
                        "after": _plain(item, section),
                        "summary": added_summary(section, label, item),
                    }
                )
                continue
            for field, value_before, value_after in _leaves(
                "", _plain(was[key][1], section), _plain(item, section)
            ):
                if section == "discharge_criteria":
                    field = ""  # the list is one value: its path is the section itself
                changes.append(
                    {
                        "item_id": item_id,
                        "label": label,
                        "path": _path(section, label, field or None),
                        "kind": "changed",
                        "before": value_before,
                        "after": value_after,
                        "summary": field_summary(
                            section,
                            label,
                            field,
                            value_before,
                            value_after,
                            item=item,
                            labels=labels,
                        ),
                    }
                )
    return {"from_version": old["version"], "to_version": new["version"], "changes": changes}
