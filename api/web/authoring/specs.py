"""What each authoring form asks, which command it sends, and what it is filled with.

One ``FormSpec`` per change a clinician makes; the routes (``routes.py``) render, read and
submit every one of them the same way. Field names are the command's field paths."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fastapi import Request

from plantrail.api.routing.context import AppContext
from plantrail.api.web.authoring.fields import Field, Options, Section, Values
from plantrail.domain import commands as cmd
from plantrail.domain.instruments import CATALOGUE
from plantrail.domain.plan import PlanState
from plantrail.projections.access.policy import Principal
from plantrail.projections.vocabulary import word

Prefill = Callable[[PlanState, str | None], Values]
Build = Callable[[dict[str, Any], Values], dict[str, Any]]
Complete = Callable[[dict[str, Any], Principal, AppContext], dict[str, Any]]
PracticeOptions = Callable[[AppContext], dict[str, Options]]
Many = Callable[[Values], list[tuple[str, cmd.Command]]]
Notices = Callable[[Request, Principal, UUID], list[str]]


@dataclass(frozen=True)
class FormSpec:
    """One authoring form. ``item``: the command field the ``?item=`` of the address fills
    (the item revised); ``revision``: a change of what is there, which on an active plan needs
    a rationale, and asks the entry kind and effective date; ``statements``: fields whose text
    is checked, before saving, against the statements of other clients' plans."""

    key: str
    title: str
    command: type[cmd.Command]
    sections: Callable[[PlanState, str | None], tuple[Section, ...]]
    anchor: str
    item: str | None = None
    revision: bool = False
    asks_envelope: bool = False
    """Show the entry kind and effective date even for an addition (a late entry is common)."""
    prefill: Prefill | None = None
    """What the item holds now: a revision sends only the inputs changed from it."""
    defaults: Prefill | None = None
    """Suggested values of a new entry (never compared: a default kept is still sent)."""
    build: Build | None = None
    statements: tuple[str, ...] = ()
    intro: str | None = None
    submit: str = "Save"
    extra: dict[str, Any] = field(default_factory=dict)
    complete: Complete | None = None
    """What the server adds that the form must not ask: the signed-in signer's name and
    credentials, a chosen user's name (run on a worker thread; may raise ``InvalidInput``)."""
    practice_options: PracticeOptions | None = None
    """Choices that come from the practice, not the plan (the active supervisors), by field."""
    today_fields: tuple[str, ...] = ()
    """Date inputs that open on today's date (the server's clock)."""
    notices: Notices | None = None
    """What the clinician should know before sending (the findings a signature would leave),
    shown above the form when it opens (run on a worker thread)."""
    many: Many | None = None
    """A form that sends several commands, one after another (a session's scores): the
    commands by row name, all validated before the first is sent (``InvalidInput`` naming
    each row's fields by their form names, ``scores.1.score``)."""


SPECS: dict[str, FormSpec] = {}
"""Every form by key; the modules that register more are imported at the end."""


def register(spec: FormSpec) -> FormSpec:
    if spec.key in SPECS:  # pragma: no cover - a programming error, caught at import
        raise RuntimeError(f"two forms named {spec.key}")
    SPECS[spec.key] = spec
    return spec


def fixed(*sections: Section) -> Callable[[PlanState, str | None], tuple[Section, ...]]:
    return lambda _state, _item: sections


# ------------------------------------------------------------------------------ options
def problems(state: PlanState) -> list[tuple[str, str]]:
    return [
        (p.id, f"{p.label}: {p.statement}") for p in state.problems.values() if p.status == "active"
    ]


def goals(state: PlanState) -> list[tuple[str, str]]:
    return [
        (g.id, f"{g.label}: {g.statement}") for g in state.goals.values() if g.status == "active"
    ]


def objectives(state: PlanState) -> list[tuple[str, str]]:
    return [
        (o.id, f"{o.label}: {o.statement}")
        for o in state.objectives.values()
        if o.status != "no_longer_relevant"
    ]


def diagnoses(state: PlanState) -> list[tuple[str, str]]:
    return [
        (d.code, f"{d.code} {d.description}")
        for d in state.diagnoses.values()
        if d.removed_version is None
    ]


def words(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, word(v)) for v in values]


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def _one(value: object) -> list[str]:
    return [] if value is None else [str(value)]


# ---------------------------------------------------------------------------- problems
STATEMENT_HINT = "In your own clinical words for this client: a copied template reads as one."

register(
    FormSpec(
        key="add-problem",
        title="Add a problem",
        command=cmd.AddProblem,
        anchor="h-problems",
        statements=("statement",),
        sections=lambda state, _: (
            Section(None, (
                Field("statement", "Problem statement", "textarea", STATEMENT_HINT, required=True),
                Field("diagnosis_codes", "Diagnoses it relates to", "multi", options=diagnoses),
            )),
        ),
    )
)  # fmt: skip


def _problem(state: PlanState, item: str | None) -> Values:
    p = state.problems[item or ""]
    return {"statement": [p.statement], "diagnosis_codes": list(p.diagnosis_codes)}


register(
    FormSpec(
        key="revise-problem",
        title="Revise a problem",
        command=cmd.ReviseProblem,
        anchor="h-problems",
        item="problem_id",
        revision=True,
        prefill=_problem,
        statements=("statement",),
        sections=fixed(
            Section(None, (
                Field("statement", "Problem statement", "textarea", required=True),
                Field("diagnosis_codes", "Diagnoses it relates to", "multi", options=diagnoses),
                Field("status", "Resolve this problem", "select",
                      options=(("", "no: it is still active"), ("resolved", "yes: resolved"))),
            )),
        ),
    )
)  # fmt: skip

# ------------------------------------------------------------------------------- goals
register(
    FormSpec(
        key="add-goal",
        title="Add a goal",
        command=cmd.AddGoal,
        anchor="h-problems",
        statements=("statement",),
        sections=fixed(
            Section(None, (
                Field("statement", "Goal", "textarea", STATEMENT_HINT, required=True),
                Field("client_words", "In the client's own words", "textarea",
                      "What the client said they want, quoted as they said it."),
                Field("problem_ids", "Problems it addresses", "multi", options=problems),
            )),
        ),
    )
)  # fmt: skip


def _goal(state: PlanState, item: str | None) -> Values:
    g = state.goals[item or ""]
    return {
        "statement": [g.statement],
        "client_words": _one(g.client_words),
        "problem_ids": list(g.problem_ids),
        "status": [g.status],
    }


register(
    FormSpec(
        key="revise-goal",
        title="Revise a goal",
        command=cmd.ReviseGoal,
        anchor="h-problems",
        item="goal_id",
        revision=True,
        prefill=_goal,
        statements=("statement",),
        sections=fixed(
            Section(None, (
                Field("statement", "Goal", "textarea", required=True),
                Field("client_words", "In the client's own words", "textarea"),
                Field("problem_ids", "Problems it addresses", "multi", options=problems),
                Field("status", "Status", "select",
                      options=words(("active", "achieved", "retired"))),
            )),
        ),
    )
)  # fmt: skip

# -------------------------------------------------------------------------- objectives
CUSTOM = "custom"
"""The instrument choice of a custom measure, whose name, range and unit the form asks."""


def instrument_options() -> list[tuple[str, str]]:
    return [
        ("", "no standard measure"),
        *((i.name, f"{i.name}: {i.title} ({i.low}–{i.high})") for i in CATALOGUE.values()),
        (CUSTOM, "another measure (name it and state its range below)"),
    ]


def measure_sections() -> tuple[Section, ...]:
    return (
        Section(
            "Measure",
            (
                Field("measure.instrument", "Instrument", "select", options=instrument_options()),
                Field("measure.direction", "Which way is better", "select", options=(
                    ("decrease", "lower scores are better (reduce to the target)"),
                    ("increase", "higher scores are better (raise to the target)"),
                    ("maintain", "keep the score at or on one side of a threshold"),
                )),
                Field("measure.baseline", "Baseline score", "number", attrs={"step": "any"}),
                Field("measure.target", "Target score", "number", attrs={"step": "any"}),
            ),
            hint="A target outside the instrument's range is refused; the ranges and clinical "
            "cut-offs are listed at the end of the form.",
        ),
        Section(
            "Maintain: a threshold instead of a target",
            (
                Field("measure.threshold", "Threshold to maintain", "number",
                      attrs={"step": "any"}),
                Field("measure.keep", "Keep the score", "select", options=(
                    ("", "—"), ("at_most", "at most the threshold"),
                    ("at_least", "at least the threshold"))),
            ),
            optional=True,
        ),
        Section(
            "A custom measure: its name, range and unit",
            (
                Field("measure.custom_instrument", "Custom measure: its name", "text",
                      "For example: days abstinent in the last 28, panic attacks a week."),
                Field("measure.scale_min", "Custom measure: lowest possible score", "number",
                      attrs={"step": "any"}),
                Field("measure.scale_max", "Custom measure: highest possible score", "number",
                      attrs={"step": "any"}),
                Field("measure.unit", "Custom measure: unit", "text", "days, attacks a week, ..."),
            ),
            optional=True,
        ),
    )  # fmt: skip


def build_measure(data: dict[str, Any], values: Values) -> dict[str, Any]:
    """The measure of an objective form: none when no instrument is chosen; a custom one takes
    its typed name; the direction-specific inputs that do not apply are dropped."""
    measure = data.get("measure")
    if not isinstance(measure, dict):
        return data
    # The custom name sits under ``measure`` so that a revision sends the measure whole when
    # only the name changed (``fields.unchanged`` groups inputs by their top-level name).
    custom = measure.pop("custom_instrument", None)
    instrument = measure.get("instrument")
    if not instrument:
        data.pop("measure")
        return data
    if instrument == CUSTOM:
        measure["instrument"] = custom or ""
    else:
        measure.pop("unit", None)
    if measure.get("direction") == "maintain":
        measure.pop("target", None)
    else:
        measure.pop("threshold", None)
        measure.pop("keep", None)
    return data


def _objective(state: PlanState, item: str | None) -> Values:
    o = state.objectives[item or ""]
    values: Values = {"statement": [o.statement], "target_date": _one(o.target_date)}
    m = o.measure
    if m is not None:
        known = m.instrument in CATALOGUE
        values.update({
            "measure.instrument": [m.instrument if known else CUSTOM],
            "measure.custom_instrument": [] if known else [m.instrument],
            "measure.direction": [m.direction],
            "measure.baseline": _one(_number(m.baseline) or None),
            "measure.target": _one(_number(m.target) or None),
            "measure.threshold": _one(_number(m.threshold) or None),
            "measure.keep": _one(m.keep),
            "measure.scale_min": _one(_number(m.scale_min) or None),
            "measure.scale_max": _one(_number(m.scale_max) or None),
            "measure.unit": _one(m.unit),
        })  # fmt: skip
    return values


register(
    FormSpec(
        key="add-objective",
        title="Add an objective",
        command=cmd.AddObjective,
        anchor="h-problems",
        statements=("statement",),
        build=build_measure,
        extra={"catalogue": True},
        sections=lambda state, _: (
            Section(None, (
                Field("goal_id", "Goal", "select", required=True, options=goals),
                Field("statement", "Objective", "textarea",
                      "Specific, measurable, achievable, relevant, time-bound.", required=True),
                Field("target_date", "Target date", "date"),
            )),
            *measure_sections(),
        ),
    )
)  # fmt: skip

register(
    FormSpec(
        key="revise-objective",
        title="Revise an objective",
        command=cmd.ReviseObjective,
        anchor="h-problems",
        item="objective_id",
        revision=True,
        prefill=_objective,
        statements=("statement",),
        build=build_measure,
        extra={"catalogue": True},
        sections=lambda state, _: (
            Section(None, (
                Field("statement", "Objective", "textarea", required=True),
                Field("target_date", "Target date", "date"),
            )),
            *measure_sections(),
        ),
    )
)  # fmt: skip

register(
    FormSpec(
        key="objective-status",
        title="Mark an objective's status",
        command=cmd.MarkObjectiveStatus,
        anchor="h-problems",
        item="objective_id",
        revision=True,
        prefill=lambda state, item: {"status": [state.objectives[item or ""].status]},
        sections=fixed(
            Section(None, (
                Field("status", "Status", "select", required=True, options=words(
                    ("open", "met", "partially_met", "not_met", "no_longer_relevant"))),
                Field("evidence", "Evidence", "textarea",
                      "The scores or observations that show it (for met or partially met)."),
            )),
        ),
    )
)  # fmt: skip

# ------------------------------------------------------------------------ interventions
register(
    FormSpec(
        key="add-intervention",
        title="Add an intervention",
        command=cmd.AddIntervention,
        anchor="h-int",
        statements=("technique",),
        sections=fixed(
            Section(None, (
                Field("modality", "Modality", "text", "CBT, DBT skills group, EMDR, ...",
                      required=True),
                Field("technique", "Technique", "textarea",
                      "The named technique and what the clinician does.", required=True),
                Field("frequency", "Frequency", "text", "weekly, every session, ...",
                      required=True),
                Field("objective_ids", "Objectives it serves", "multi", options=objectives),
            )),
        ),
    )
)  # fmt: skip


def _intervention(state: PlanState, item: str | None) -> Values:
    i = state.interventions[item or ""]
    return {
        "modality": [i.modality],
        "technique": [i.technique],
        "frequency": [i.frequency],
        "objective_ids": list(i.objective_ids),
    }


register(
    FormSpec(
        key="revise-intervention",
        title="Revise an intervention",
        command=cmd.ReviseIntervention,
        anchor="h-int",
        item="intervention_id",
        revision=True,
        prefill=_intervention,
        statements=("technique",),
        sections=fixed(
            Section(None, (
                Field("modality", "Modality", "text", required=True),
                Field("technique", "Technique", "textarea", required=True),
                Field("frequency", "Frequency", "text", required=True),
                Field("objective_ids", "Objectives it serves", "multi", options=objectives),
                Field("status", "Discontinue it", "select", options=(
                    ("", "no: it continues"), ("discontinued", "yes: discontinued"))),
            )),
        ),
    )
)  # fmt: skip

# ----------------------------------------------------- strengths, barriers, timeline, ...
register(
    FormSpec(
        key="add-strength",
        title="Note a strength",
        command=cmd.NoteStrength,
        anchor="h-str",
        sections=fixed(Section(None, (Field("text", "Strength", "textarea", required=True),))),
    )
)
register(
    FormSpec(
        key="add-barrier",
        title="Note a barrier",
        command=cmd.NoteBarrier,
        anchor="h-bar",
        sections=fixed(Section(None, (Field("text", "Barrier", "textarea", required=True),))),
    )
)


def _timeline(state: PlanState, item: str | None) -> Values:
    t = state.timeline
    if t is None:
        return {}
    return {
        "estimated_sessions": [str(t.estimated_sessions)],
        "session_frequency": [t.session_frequency],
    }


register(
    FormSpec(
        key="timeline",
        title="Set the timeline",
        command=cmd.SetTimeline,
        anchor="h-header",
        revision=True,
        prefill=_timeline,
        sections=fixed(
            Section(None, (
                Field("estimated_sessions", "Estimated number of sessions", "number",
                      required=True, attrs={"min": "1", "max": "1000", "step": "1"}),
                Field("session_frequency", "Session frequency", "text", "weekly, twice a month",
                      required=True),
            )),
        ),
    )
)  # fmt: skip

register(
    FormSpec(
        key="discharge-criteria",
        title="Set the discharge criteria",
        command=cmd.SetDischargeCriteria,
        anchor="h-dc",
        revision=True,
        prefill=lambda state, _: (
            {"criteria": ["\n".join(state.discharge_criteria)]} if state.discharge_criteria else {}
        ),
        sections=fixed(
            Section(None, (
                Field("criteria", "Discharge criteria", "lines",
                      "One per line: observable conditions, such as “PHQ-9 below 5 at two "
                      "consecutive reviews”.", required=True),
            )),
        ),
    )
)  # fmt: skip

CONTACT_ROWS = 4


def _safety(state: PlanState, item: str | None) -> Values:
    s = state.safety_plan
    if s is None:
        return {}
    values: Values = {
        "warning_signs": ["\n".join(s.warning_signs)],
        "coping_strategies": ["\n".join(s.coping_strategies)],
        "means_restriction": ["\n".join(s.means_restriction)],
    }
    for n, contact in enumerate(s.contacts):
        values[f"contacts.{n}.name"] = [contact.name]
        values[f"contacts.{n}.kind"] = [contact.kind]
        values[f"contacts.{n}.phone"] = _one(contact.phone)
    return values


def _contact_sections(state: PlanState, item: str | None) -> tuple[Section, ...]:
    rows = max(CONTACT_ROWS, len(state.safety_plan.contacts) + 1 if state.safety_plan else 0)
    return (
        Section(None, (
            Field("warning_signs", "Warning signs", "lines", "One per line.", required=True),
            Field("coping_strategies", "Coping strategies", "lines", "One per line.",
                  required=True),
            Field("means_restriction", "Making the environment safe", "lines",
                  "One per line: means restriction agreed with the client."),
        )),
        *(
            Section(f"Contact {n + 1}", (
                Field(f"contacts.{n}.name", "Name", "text", required=n == 0),
                Field(f"contacts.{n}.kind", "Kind", "select", options=(
                    ("", "—"), ("support", "someone the client trusts"),
                    ("professional", "a professional"), ("crisis_line", "a crisis line"))),
                Field(f"contacts.{n}.phone", "Phone", "text", attrs={"autocomplete": "off",
                                                                     "inputmode": "tel"}),
            ))
            for n in range(rows)
        ),
    )  # fmt: skip


register(
    FormSpec(
        key="safety-plan",
        title="Set the safety plan",
        command=cmd.SetSafetyPlan,
        anchor="h-safety",
        revision=True,
        prefill=_safety,
        sections=_contact_sections,
        intro="Fill the contacts the client agreed to; leave unused rows empty.",
    )
)
