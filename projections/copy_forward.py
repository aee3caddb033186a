"""Copy-forward detection (docs/domain.md, Projections 6; docs/api.md, "A review"): did a
review change the plan's language, or was the plan carried forward as it stood?

Plan language is the signable content (``plantrail.domain.content.plan_content``) without ids,
dates, review and signature metadata and measurements: items are keyed by their human labels and
refer to each other by label, so a re-issued id or a moved target date is not a revision, while a
changed statement, target, frequency, link or status is.

Cost matters: a supervisor's caseload report runs this for every review of every plan. Each item
gets a canonical hash of its normalised form (cached by its raw bytes, so text shared by
consecutive states is normalised once); only items whose hashes differ are handed to DeepDiff,
which explains what changed. DeepDiff over a whole 18 KB plan costs about 33 ms; the hashes
alone cost well under the 2 ms a review may take.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import orjson

from plantrail.domain.plan import PlanState
from plantrail.projections.near_copy import StatementEdit, statement_edit
from plantrail.projections.near_copy import summary_similarity as summary_similarity_of
from plantrail.projections.normalise import normalise, normalise_text
from plantrail.projections.profile import RuleProfile

DEFAULT_PROFILE = RuleProfile()

__all__ = [
    "PlanLanguage",
    "copy_forward_verdict",
    "language_items",
    "language_of",
    "plan_language",
    "small_statement_edit",
    "verdict_between",
]


def language_items(state: PlanState, detector: int = 2) -> dict[str, Any]:
    """The plan language of ``state``, one entry per item, keyed ``section[label]``. Detector 2
    adds a maintained measure's threshold and side (``keep``), which detector 1 did not read:
    its verdicts stay as they were."""
    goals = {g.id: g.label for g in state.goals.values()}
    problems = {p.id: p.label for p in state.problems.values()}
    objectives = {o.id: o.label for o in state.objectives.values()}
    supervisor = state.supervisor
    items: dict[str, Any] = {
        "header": {
            "client": state.client.name,
            "clinician": [
                state.clinician.name,
                state.clinician.credentials,
                state.clinician.license_number,
            ],
            "supervisor": [supervisor.name, supervisor.credentials] if supervisor else None,
            "review_interval_days": state.review_interval_days,
            "service_type": state.service_type,
            "session_minutes": state.session_minutes,
        }
    }
    for d in state.diagnoses.values():
        if d.removed_version is None:
            items[f"diagnoses[{d.code}]"] = {"description": d.description, "primary": d.primary}
    for p in state.problems.values():
        items[f"problems[{p.label}]"] = {
            "statement": p.statement,
            "diagnosis_codes": sorted(p.diagnosis_codes),
            "status": p.status,
        }
    for g in state.goals.values():
        items[f"goals[{g.label}]"] = {
            "statement": g.statement,
            "problems": sorted(problems.get(i, i) for i in g.problem_ids),
            "client_words": g.client_words,
            "status": g.status,
        }
    for o in state.objectives.values():
        m = o.measure
        items[f"objectives[{o.label}]"] = {
            "goal": goals.get(o.goal_id, o.goal_id),
            "statement": o.statement,
            "measure": None
            if m is None
            else {
                "instrument": m.instrument,
                "baseline": m.baseline,
                "target": m.target,
                "direction": m.direction,
                "unit": m.unit,
                **(
                    {"threshold": m.threshold, "keep": m.keep}
                    if detector >= 2 and m.threshold is not None
                    else {}
                ),
            },
            "status": o.status,
        }
    for i in state.interventions.values():
        items[f"interventions[{i.label}]"] = {
            "modality": i.modality,
            "technique": i.technique,
            "frequency": i.frequency,
            "objectives": sorted(objectives.get(x, x) for x in i.objective_ids),
            "status": i.status,
        }
    items["strengths"] = [s.text for s in state.strengths]
    items["barriers"] = [b.text for b in state.barriers]
    timeline = state.timeline
    items["timeline"] = (
        None
        if timeline is None
        else {
            "estimated_sessions": timeline.estimated_sessions,
            "session_frequency": timeline.session_frequency,
        }
    )
    items["discharge_criteria"] = list(state.discharge_criteria)
    if (safety := state.safety_plan) is not None:  # only when set: older verdicts stay as they were
        items["safety_plan"] = {
            "warning_signs": list(safety.warning_signs),
            "coping_strategies": list(safety.coping_strategies),
            "contacts": [f"{c.name} ({c.kind}) {c.phone or ''}".strip() for c in safety.contacts],
            "means_restriction": list(safety.means_restriction),
        }
    return items


def _leaves(value: Any) -> int:
    """How many scalar values ``value`` holds: the weight of an item in the similarity."""
    if isinstance(value, Mapping):
        return sum(_leaves(v) for v in value.values()) or 1
    if isinstance(value, list):
        return sum(_leaves(v) for v in value) or 1
    return 1


@lru_cache(maxsize=16_384)
def _fingerprint(raw: bytes) -> tuple[bytes, int]:
    """Digest of the normalised item whose raw canonical bytes are ``raw``, and its weight."""
    normalised = normalise(orjson.loads(raw))
    digest = hashlib.blake2b(orjson.dumps(normalised, option=orjson.OPT_SORT_KEYS), digest_size=16)
    return digest.digest(), _leaves(normalised)


@dataclass(frozen=True)
class PlanLanguage:
    """The plan language of one state with a canonical hash and a weight per item."""

    version: int
    items: dict[str, Any]
    digests: dict[str, bytes]
    weights: dict[str, int]


def plan_language(state: PlanState, detector: int = 2) -> PlanLanguage:
    """Fingerprint ``state``'s plan language (compute once per state, compare many times)."""
    return language_of(state.version, language_items(state, detector))


def language_of(version: int, items: dict[str, Any]) -> PlanLanguage:
    """Fingerprint plan language given as ``language_items`` gives it."""
    digests: dict[str, bytes] = {}
    weights: dict[str, int] = {}
    for key, item in items.items():
        digests[key], weights[key] = _fingerprint(orjson.dumps(item, option=orjson.OPT_SORT_KEYS))
    return PlanLanguage(version, items, digests, weights)


def _at(value: Any, path: list[Any]) -> Any:
    for step in path:
        in_dict = isinstance(value, Mapping) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
        if not (in_dict or in_list):
            return None
        value = value[step]
    return value


def _path(key: str, steps: list[Any]) -> str:
    return key + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


_ABSENT = object()
_KINDS = {
    "dictionary_item_added": "added",
    "iterable_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_removed": "removed",
    "values_changed": "changed",
    "type_changes": "changed",
}


def _explain(key: str, before: Any, after: Any) -> list[dict[str, Any]]:
    """What changed inside one item, after normalisation, with the values as written."""
    from deepdiff import DeepDiff  # imported here: only items whose hashes differ get this far

    changes: list[dict[str, Any]] = []
    old, new = normalise(before), normalise(after)
    if isinstance(old, dict) and isinstance(new, dict):
        # DeepDiff's cost grows with the nodes it walks: hand it only the fields that differ.
        differing = [
            k for k in old.keys() | new.keys() if old.get(k, _ABSENT) != new.get(k, _ABSENT)
        ]
        old = {k: old[k] for k in differing if k in old}
        new = {k: new[k] for k in differing if k in new}
    tree = DeepDiff(old, new, view="tree")
    for change_type, levels in tree.items():
        kind = _KINDS.get(change_type, "changed")
        for level in levels:
            steps = list(level.path(output_format="list"))
            changes.append(
                {
                    "path": _path(key, steps),
                    "kind": kind,
                    "before": None if kind == "added" else _at(before, steps),
                    "after": None if kind == "removed" else _at(after, steps),
                }
            )
    changes.sort(key=lambda c: str(c["path"]))
    return changes


@lru_cache(maxsize=4_096)
def _explained_bytes(key: str, before: bytes, after: bytes) -> bytes:
    return orjson.dumps(_explain(key, orjson.loads(before), orjson.loads(after)))


def _explained(key: str, before: Any, after: Any) -> list[dict[str, Any]]:
    """``_explain``, remembered by the items' bytes: DeepDiff is most of a verdict's cost, and
    the same revision is compared again whenever a plan's history is read (document, reviews,
    findings, read models). Items are plain JSON values in insertion order, so the round trip
    through orjson gives equal values in the same order, and each caller gets its own copy."""
    return cast(
        list[dict[str, Any]],
        orjson.loads(_explained_bytes(key, orjson.dumps(before), orjson.dumps(after))),
    )


def verdict_between(
    previous: PlanLanguage,
    current: PlanLanguage,
    previous_summary: str | None,
    current_summary: str | None,
    streak_before: int,
    profile: RuleProfile = DEFAULT_PROFILE,
) -> dict[str, Any]:
    """The verdict of ``current`` against ``previous``; see ``copy_forward_verdict``."""
    changes: list[dict[str, Any]] = []
    total = unchanged = 0
    differs = False
    for key in previous.digests.keys() | current.digests.keys():
        before, after = previous.digests.get(key), current.digests.get(key)
        weight = max(previous.weights.get(key, 0), current.weights.get(key, 0))
        total += weight
        if before == after:
            unchanged += weight
            continue
        differs = True
        if before is None or after is None:
            kind = "added" if before is None else "removed"
            changes.append(
                {
                    "path": key,
                    "kind": kind,
                    "before": previous.items.get(key),
                    "after": current.items.get(key),
                }
            )
        else:
            explained = _explained(key, previous.items[key], current.items[key])
            changed = sum(max(_leaves(c["before"]), _leaves(c["after"])) for c in explained)
            unchanged += max(weight - changed, 0)
            changes.extend(explained)
    summary_repeated = (
        previous_summary is not None
        and current_summary is not None
        and normalise_text(previous_summary) == normalise_text(current_summary)
    )
    changes.sort(key=_order)
    similarity = round(unchanged / total, 4) if total else 1.0
    if profile.copy_forward_detector == 1:
        copied = not differs
        return {
            "verdict": "copied_forward" if copied else "updated",
            "similarity": similarity,
            "changes": changes,
            "streak": streak_before + 1 if copied else 0,
            "summary_repeated": summary_repeated,
        }
    edits, meaningful = _small_edits(changes, profile)
    if not differs:
        verdict = "copied_forward"
    elif meaningful:
        verdict = "updated"
    else:
        verdict = "nearly_copied_forward"
    summary_similarity = (
        summary_similarity_of(previous_summary, current_summary)
        if previous_summary is not None and current_summary is not None
        else None
    )
    return {
        "verdict": verdict,
        "similarity": similarity,
        "changes": changes,
        "streak": 0 if verdict == "updated" else streak_before + 1,
        "summary_repeated": summary_repeated,
        "detector": 2,
        "edits": edits,
        "explanation": _explanation(verdict, edits, meaningful),
        "summary_similarity": summary_similarity,
        "summary_nearly_repeated": summary_similarity is not None
        and summary_similarity >= profile.summary_nearly_repeated,
    }


_TEXT_FIELDS = {
    "problems": ("statement",),
    "goals": ("statement", "client_words"),
    "objectives": ("statement",),
    "interventions": ("technique",),
}
"""The statements of plan items: only an edit of one of these (or of one entry of the lists
below) can be a small edit; every other field is structure (a target, a status, a link, a
frequency) and any change to it is a genuine update."""
_TEXT_LISTS = {
    "strengths": "Strength",
    "barriers": "Barrier",
    "discharge_criteria": "Discharge criterion",
}
_PATH = re.compile(r"^(?P<section>[a-z_]+)(?:\[(?P<label>[^\]]+)\])?(?P<rest>.*)$")


def _statement_of(change: dict[str, Any]) -> tuple[str, str] | None:
    """(item label, field) when ``change`` is an edit of one statement's wording, else None."""
    if change["kind"] != "changed":
        return None
    if not (isinstance(change["before"], str) and isinstance(change["after"], str)):
        return None
    match = _PATH.match(str(change["path"]))
    if match is None:
        return None
    section, label, rest = match["section"], match["label"], match["rest"]
    if section in _TEXT_LISTS and label is not None and label.isdigit() and not rest:
        return f"{_TEXT_LISTS[section]} {int(label) + 1}", "text"
    fields = _TEXT_FIELDS.get(section, ())
    if label is not None and rest.startswith(".") and rest[1:] in fields:
        return label, rest[1:]
    return None


def small_statement_edit(edit: StatementEdit, profile: RuleProfile) -> bool:
    """Whether ``edit`` of one statement is small by ``profile``'s thresholds: nothing
    meaningful moved (no number, negation, direction or existing frequency), and either a few
    words changed with the statement still mostly alike, or the statement is nearly the same."""
    return edit.meaningful is None and (
        (
            edit.words_changed <= profile.near_copy_max_words
            and edit.similarity >= profile.near_copy_min_similarity
        )
        or edit.similarity >= profile.near_copy_similarity
    )


def _small_edits(
    changes: list[dict[str, Any]], profile: RuleProfile
) -> tuple[list[dict[str, Any]], list[str]]:
    """The small statement edits among ``changes``, and why each other change is a genuine
    update (empty when every change is a small edit)."""
    edits: list[dict[str, Any]] = []
    meaningful: list[str] = []
    for change in changes:
        statement = _statement_of(change)
        if statement is None:
            meaningful.append(_why(change))
            continue
        label, field_name = statement
        edit = statement_edit(change["before"], change["after"])
        if not small_statement_edit(edit, profile):
            reason = edit.meaningful or f"rewritten ({edit.describe()})"
            meaningful.append(f"{label} {_FIELD_WORDS.get(field_name, field_name)}: {reason}")
            continue
        edits.append(
            {
                "path": change["path"],
                "item": label,
                "field": field_name,
                "description": edit.describe(),
                "words_changed": edit.words_changed,
                "similarity": edit.similarity,
            }
        )
    return edits, meaningful


_FIELD_WORDS = {"client_words": "client's words"}


def _why(change: dict[str, Any]) -> str:
    """One genuine change in a supervisor's words: "Objective 1.2 measure target changed"."""
    match = _PATH.match(str(change["path"]))
    if match is None:  # pragma: no cover - every path starts with its section's name
        return f"{change['path']} {change['kind']}"
    section, label, rest = match["section"], match["label"], match["rest"]
    if section in _TEXT_LISTS and label is not None and label.isdigit():
        where = f"{_TEXT_LISTS[section]} {int(label) + 1}"
    elif section == "diagnoses" and label is not None:
        where = f"Diagnosis {label}"
    else:
        where = label or section.replace("_", " ")
    detail = " ".join(re.findall(r"[a-z_]+", rest)).replace("_", " ")
    return " ".join(part for part in (where, detail, change["kind"]) if part)


def _explanation(verdict: str, edits: list[dict[str, Any]], meaningful: list[str]) -> str:
    """Why the review got its verdict, naming the small edits ("Objective 1.2: one word added:
    *daily*") or the first genuine changes."""
    if verdict == "copied_forward":
        return "The plan language is the same as before."
    if verdict == "nearly_copied_forward":
        named = "; ".join(f"{e['item']}: {e['description']}" for e in edits)
        return f"Only small edits, nothing clinically meaningful changed: {named}."
    shown = "; ".join(meaningful[:3]) + ("; …" if len(meaningful) > 3 else "")
    return f"Updated: {shown}."


_SECTION_ORDER = {
    name: rank
    for rank, name in enumerate(
        (
            "header",
            "diagnoses",
            "problems",
            "goals",
            "objectives",
            "interventions",
            "strengths",
            "barriers",
            "timeline",
            "discharge_criteria",
            "safety_plan",
        )
    )
}


def _order(change: dict[str, Any]) -> tuple[int, str]:
    path = str(change["path"])
    section = path.split("[", 1)[0].split(".", 1)[0]
    return _SECTION_ORDER.get(section, len(_SECTION_ORDER)), path


def copy_forward_verdict(
    previous: PlanState,
    current: PlanState,
    previous_summary: str | None,
    current_summary: str | None,
    streak_before: int,
    profile: RuleProfile = DEFAULT_PROFILE,
) -> dict[str, Any]:
    """``copied_forward`` when the plan language of ``current`` equals that of ``previous`` after
    normalising whitespace, case, punctuation and dates; with detector 2 (``profile``),
    ``nearly_copied_forward`` when every change is a small edit of a statement's wording that
    moves nothing clinically meaningful; ``updated`` otherwise.

    Returns ``verdict``, ``similarity`` (0–1: the weighted share of plan language left as it
    was), ``changes`` (``path``, ``kind`` added/removed/changed, ``before``, ``after`` as
    written), ``streak`` (this and the directly preceding copied-forward reviews, 0 when
    updated; ``streak_before`` counts the preceding ones) and ``summary_repeated`` (the progress
    summary equals the previous one after the same normalisation).

    Detector 2 adds ``detector``, ``edits`` (each small edit: ``path``, ``item``, ``field``,
    ``description`` such as "one word added: *daily*", ``words_changed``, ``similarity``),
    ``explanation`` (one sentence naming the small edits or the genuine changes),
    ``summary_similarity`` (0–1, None without two summaries) and ``summary_nearly_repeated``
    (at least the profile's ``summary_nearly_repeated``). A near copy counts in the streak."""
    return verdict_between(
        plan_language(previous, profile.copy_forward_detector),
        plan_language(current, profile.copy_forward_detector),
        previous_summary,
        current_summary,
        streak_before,
        profile,
    )
