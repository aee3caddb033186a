"""The review and renewal forms, where copy-forward is stopped while it is written: each shows
the verdict the record would get if it were completed now (``PlanGateway.continuation_preview``)
and, when that verdict is copied forward, asks why continuing unchanged is clinically right
(docs/glossary.md, "Continuation reason"). The command path refuses the completion without it
on every surface, so the page only says so first."""

from __future__ import annotations

from datetime import timedelta

from plantrail.api.web.authoring.fields import Field, Section, Values
from plantrail.api.web.authoring.specs import FormSpec, register, words
from plantrail.domain import commands as cmd
from plantrail.domain.plan import Objective, PlanState

REVIEW_REASONS = ("scheduled", "milestone", "client_request", "lack_of_progress", "transition",
                  "crisis")  # fmt: skip
ASSESSED = ("open", "met", "partially_met", "not_met", "no_longer_relevant")

CONTINUATION = Field(
    "continuation_reason",
    "Why continuing the plan unchanged is clinically right",
    "textarea",
    "Needed only when the review would be judged copied forward: say what you considered "
    "and why the same plan is still right for this client now.",
)

register(
    FormSpec(
        key="start-review",
        title="Start a review",
        command=cmd.StartReview,
        anchor="h-rev",
        asks_envelope=True,
        submit="Start the review",
        sections=lambda state, _: (
            Section(None, (
                Field("reason", "Why this review", "select", required=True,
                      options=words(REVIEW_REASONS)),
            )),
        ),
    )
)  # fmt: skip


def scores_of(state: PlanState, objective: Objective) -> str:
    """The objective's latest scores, newest first, as a hint beside its assessment."""
    if objective.measure is None:
        return "No measure."
    instrument = objective.measure.instrument
    found = sorted(
        (
            m
            for m in state.measurements.values()
            if m.voided_version is None
            and (
                m.objective_id == objective.id
                or (m.objective_id is None and m.instrument == instrument)
            )
        ),
        key=lambda m: m.administered_on,
        reverse=True,
    )[:4]
    target = objective.measure.target
    goal = f"; target {target:g}" if target is not None else ""
    if not found:
        return f"No score recorded yet ({instrument}){goal}."
    latest = ", ".join(f"{m.score:g} on {m.administered_on}" for m in found)
    baseline = objective.measure.baseline
    start = f"baseline {baseline:g}; " if baseline is not None else ""
    return f"{instrument}: {start}latest {latest}{goal}."


def assessed(state: PlanState) -> list[Objective]:
    """The objectives a review assesses: every one but those no longer relevant."""
    return [o for o in state.objectives.values() if o.status != "no_longer_relevant"]


def _review_sections(state: PlanState, item: str | None) -> tuple[Section, ...]:
    objectives = assessed(state)
    return (
        *(
            Section(
                f"{o.label}: {o.statement}",
                (
                    Field(f"assessments.{n}.objective_id", "objective", "hidden"),
                    Field(f"assessments.{n}.status", f"{o.label}: status now", "select",
                          required=True, options=words(ASSESSED)),
                    Field(f"assessments.{n}.note", f"{o.label}: note", "textarea",
                          "What the scores and sessions show."),
                    Field(f"assessments.{n}.rationale", f"{o.label}: why it is reopened",
                          "textarea",
                          "Only for an objective that was met and is now marked otherwise."
                          if o.status == "met" else None)
                    if o.status == "met" else Field(f"assessments.{n}.rationale", "", "hidden"),
                ),
                hint=f"Status before this review: {o.status.replace('_', ' ')}. "
                + scores_of(state, o),
            )
            for n, o in enumerate(objectives)
        ),
        Section("The review", (
            Field("progress_summary", "Progress summary", "textarea",
                  "What changed since the last review, in this client's terms.", required=True),
            Field("client_input", "The client's view", "textarea",
                  "What the client said about their progress and the plan."),
            Field("next_review_date", "Next review", "date",
                  f"Left empty: {state.review_interval_days} days after this review."),
        )),
        Section("Continuing unchanged", (CONTINUATION,)),
    )  # fmt: skip


def _review_prefill(state: PlanState, item: str | None) -> Values:
    values: Values = {}
    for n, o in enumerate(assessed(state)):
        values[f"assessments.{n}.objective_id"] = [o.id]
        values[f"assessments.{n}.status"] = [o.status]
    return values


register(
    FormSpec(
        key="complete-review",
        title="Complete the review",
        command=cmd.CompleteReview,
        anchor="h-rev",
        item="review_id",
        asks_envelope=True,
        defaults=_review_prefill,
        sections=_review_sections,
        submit="Complete the review",
        extra={"continuation": True},
        intro="Assess every objective. Before you complete it, check what the record will say: "
        "a review that carries the plan forward unchanged is flagged to auditors and "
        "supervisors unless you say why that is right.",
    )
)


def _renew_prefill(state: PlanState, item: str | None) -> Values:
    return {"plan_end_date": [(state.plan_end_date + timedelta(days=180)).isoformat()]}


register(
    FormSpec(
        key="renew",
        title="Renew the plan",
        command=cmd.RenewPlan,
        anchor="h-header",
        revision=True,
        defaults=_renew_prefill,
        submit="Renew the plan",
        extra={"continuation": True},
        intro="Renewing continues this plan for a new period; it must then be signed again. "
        "Check what the record will say about its language first.",
        sections=lambda state, _: (
            Section(None, (
                Field("plan_end_date", "New plan end date", "date",
                      f"After the current end, {state.plan_end_date}, and less than a year "
                      "from the renewal.", required=True),
            )),
            Section("Continuing unchanged", (CONTINUATION,)),
        ),
    )
)  # fmt: skip
