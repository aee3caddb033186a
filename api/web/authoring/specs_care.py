"""The forms around a plan's content: a session's scores, voiding a score, the clinician's
signature, asking a supervisor to co-sign, and discharge (docs/web.md, "Writing from the
pages"). Each is a ``FormSpec`` rendered, read and sent by ``routes.py`` like every other form;
the scores form sends one ``RecordMeasurement`` per filled row (``FormSpec.many``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Request

from plantrail.api.routing.common import context
from plantrail.api.routing.context import AppContext
from plantrail.api.routing.reads import events_and_state, rule_profile
from plantrail.api.web.authoring.fields import Field, Options, Section, Values, first
from plantrail.api.web.authoring.specs import FormSpec, fixed, objectives, register
from plantrail.domain import commands as cmd
from plantrail.domain.errors import FieldProblem, InvalidInput
from plantrail.domain.instruments import CATALOGUE
from plantrail.domain.parsing import parse_command
from plantrail.domain.plan import PlanState
from plantrail.domain.validation import score_problem
from plantrail.projections.access.policy import Principal
from plantrail.projections.findings import FINDINGS, plan_findings


def refuse(*problems: tuple[str, str]) -> InvalidInput:
    """One refusal naming every field at fault."""
    return InvalidInput(
        "; ".join(f"{name}: {why}" for name, why in problems),
        errors=tuple(FieldProblem(name, why) for name, why in problems),
    )


def ticked(data: dict[str, Any], name: str) -> bool:
    return bool(data.pop(name, False))


# ------------------------------------------------------------------------------- scores
FREE_ROWS = 2
"""Rows for any instrument, after one per catalogue instrument the plan's objectives use."""


def used_instruments(state: PlanState) -> list[tuple[str, list[str]]]:
    """The catalogue instruments the plan's objectives measure by, in catalogue order, each
    with the objectives that use it."""
    used: dict[str, list[str]] = {}
    for o in state.objectives.values():
        m = o.measure
        if m is not None and o.status != "no_longer_relevant" and m.instrument in CATALOGUE:
            used.setdefault(m.instrument, []).append(o.id)
    return [(name, used[name]) for name in CATALOGUE if name in used]


def _instrument_choices(state: PlanState) -> Options:
    return [("", "—"), *((i.name, f"{i.name} ({i.low}–{i.high})") for i in CATALOGUE.values())]


def _objective_choices(state: PlanState) -> Options:
    return [("", "— none —"), *objectives(state)]


def score_sections(state: PlanState, item: str | None) -> tuple[Section, ...]:
    used = used_instruments(state)
    rows = len(used) + FREE_ROWS
    return (
        Section(None, (
            Field("administered_on", "Session date", "date", "The day the scores were taken.",
                  required=True),
        )),
        *(
            Section(
                f"Score {n + 1}" + (f": {used[n][0]}" if n < len(used) else ": any measure"),
                (
                    Field(f"scores.{n}.instrument", "Instrument", "select",
                          options=_instrument_choices),
                    Field(f"scores.{n}.custom", "Or another measure: its name", "text",
                          "Only for a measure not in the list."),
                    Field(f"scores.{n}.score", "Score", "number", attrs={"step": "any"}),
                    Field(f"scores.{n}.objective_id", "For objective (optional)", "select",
                          options=_objective_choices),
                ),
            )
            for n in range(rows)
        ),
    )  # fmt: skip


def _score_prefill(state: PlanState, item: str | None) -> Values:
    values: Values = {}
    for n, (name, ids) in enumerate(used_instruments(state)):
        values[f"scores.{n}.instrument"] = [name]
        if len(ids) == 1:
            values[f"scores.{n}.objective_id"] = ids
    return values


def _rows(values: Values) -> list[int]:
    found = {
        int(parts[1])
        for name in values
        if (parts := name.split("."))[0] == "scores" and len(parts) == 3 and parts[1].isdigit()
    }
    return sorted(n for n in found if n < 100)


def score_commands(values: Values) -> list[tuple[str, cmd.Command]]:
    """One ``RecordMeasurement`` per row with a score or a measure's name, all checked before
    any is sent: the command's own rules and the catalogue's range; a problem of one row is
    named by that row's input (``scores.1.score``), the session date by its own."""
    day = first(values, "administered_on")
    problems: dict[str, str] = {}
    commands: list[tuple[str, cmd.Command]] = []
    for n in _rows(values):
        row = f"scores.{n}"
        score = first(values, f"{row}.score").strip()
        custom = first(values, f"{row}.custom").strip()
        if not score and not custom:
            continue  # an empty row (its instrument may be preselected)
        instrument = custom or first(values, f"{row}.instrument").strip()
        if not instrument:
            problems.setdefault(
                f"{row}.instrument", f"row {n + 1}: choose the instrument or name the measure"
            )
            instrument = "unnamed"
        data = {"instrument": instrument, "score": score, "administered_on": day}
        if objective := first(values, f"{row}.objective_id").strip():
            data["objective_id"] = objective
        try:
            command = parse_command(cmd.RecordMeasurement, data)
        except InvalidInput as error:
            for problem in error.errors:
                name = problem.field.split(".")[0] or "score"
                where = name if name == "administered_on" else f"{row}.{name}"
                if where != "administered_on" and f"{where}" not in values:
                    where = f"{row}.score"
                problems.setdefault(
                    where, problem.message if where == "administered_on" else
                    f"row {n + 1}: {problem.message}"
                )  # fmt: skip
            continue
        assert isinstance(command, cmd.RecordMeasurement)
        if why := score_problem(command.instrument, command.score, "the score"):
            problems.setdefault(f"{row}.score", f"row {n + 1}: {why}")
            continue
        commands.append((row, command))
    if not commands and not problems:
        problems["scores.0.score"] = "enter at least one score"
    if problems:
        raise refuse(*problems.items())
    return commands


register(
    FormSpec(
        key="record-scores",
        title="Record a session's scores",
        command=cmd.RecordMeasurement,
        anchor="h-meas",
        sections=score_sections,
        prefill=_score_prefill,
        today_fields=("administered_on",),
        many=score_commands,
        submit="Save the scores",
        intro="One row per instrument this plan's objectives use, and two for any other. "
        "Fill the scores taken in the session; leave the other rows empty. Nothing is saved "
        "unless every filled row is valid.",
        extra={"catalogue": True},
    )
)


def _void_reason(data: dict[str, Any], values: Values) -> dict[str, Any]:
    """The reason is the entry's rationale (the envelope), required here whatever the plan's
    status: a voided score stays in the record, and so must why."""
    data.pop("rationale", None)
    if not first(values, "rationale").strip():
        raise InvalidInput.on("rationale", "give the reason this score is void")
    return data


register(
    FormSpec(
        key="void-score",
        title="Void a score",
        command=cmd.VoidMeasurement,
        anchor="h-meas",
        item="measurement_id",
        build=_void_reason,
        submit="Void this score",
        intro="A voided score stays in the record, struck through, with the reason; it no "
        "longer counts towards progress.",
        sections=fixed(
            Section(None, (
                Field("rationale", "Reason the score is void", "textarea",
                      "For example: recorded on the wrong client, or the wrong instrument.",
                      required=True),
            )),
        ),
    )
)  # fmt: skip


# ---------------------------------------------------------------------------- signatures
def _attest(data: dict[str, Any], values: Values) -> dict[str, Any]:
    if not ticked(data, "attest"):
        raise InvalidInput.on("attest", "tick “I attest” to sign")
    return data


SIGNING_CLEARS = frozenset({"UNSIGNED_CHANGES"})
"""Findings the clinician's own signature clears: not worth a warning before it."""


def remaining_findings(request: Request, caller: Principal, plan_id: UUID) -> list[str]:
    """The plan's errors and warnings that signing would leave, in words."""
    ctx = context(request)
    events, state = events_and_state(ctx, caller, plan_id, request, "findings")
    found = plan_findings(state, events, rule_profile(ctx), ctx.service.clock().date())
    return [
        f"{FINDINGS[f['code']].title}: {f['message']}"
        for f in found
        if f["severity"] in ("error", "warning") and f["code"] not in SIGNING_CLEARS
    ]


def _as_author(data: dict[str, Any], caller: Principal, ctx: AppContext) -> dict[str, Any]:
    """The signer is the signed-in clinician: their name and credentials, never typed."""
    return {
        **data,
        "role": "clinician",
        "meaning": "authored",
        "signer_name": caller.name,
        "signer_credentials": caller.credentials,
        "signer_id": caller.user_id,
    }


register(
    FormSpec(
        key="sign",
        title="Sign the plan",
        command=cmd.CaptureSignature,
        anchor="h-sig",
        build=_attest,
        complete=_as_author,
        notices=remaining_findings,
        submit="Sign",
        extra={"attestation": True},
        sections=fixed(Section(None, (Field("attest", "I attest", "checkbox", required=True),))),
    )
)


def supervisors(ctx: AppContext) -> dict[str, Options]:
    found = [
        (u.user_id, u.name + (f", {u.credentials}" if u.credentials else ""))
        for u in ctx.accounts.list_users()
        if u.role == "supervisor" and not u.disabled
    ]
    return {"signer_id": [("", "— choose —"), *found]}


def _supervisor(state: PlanState, item: str | None) -> Values:
    return {"signer_id": [state.supervisor.user_id]} if state.supervisor else {}


def _as_supervisor(data: dict[str, Any], caller: Principal, ctx: AppContext) -> dict[str, Any]:
    chosen = str(data.get("signer_id", ""))
    user = ctx.accounts.get(chosen) if chosen else None
    if user is None or user.role != "supervisor" or user.disabled:
        raise InvalidInput.on("signer_id", "choose an active supervisor")
    return {**data, "role": "supervisor", "meaning": "approved", "signer_name": user.name}


register(
    FormSpec(
        key="request-cosignature",
        title="Ask a supervisor to co-sign",
        command=cmd.RequestSignature,
        anchor="h-sig",
        prefill=_supervisor,
        practice_options=supervisors,
        complete=_as_supervisor,
        submit="Ask for the co-signature",
        intro="The supervisor is asked to sign the plan as approved; the request shows as "
        "pending until they sign.",
        sections=fixed(
            Section(None, (
                Field("signer_id", "Supervisor", "select", "The plan's named supervisor is "
                      "chosen first.", required=True),
            )),
        ),
    )
)  # fmt: skip


# ----------------------------------------------------------------------------- discharge
def _confirmed(data: dict[str, Any], values: Values) -> dict[str, Any]:
    problems = []
    if not ticked(data, "confirm"):
        problems.append(("confirm", "tick the box to confirm that the plan becomes read-only"))
    if not str(data.get("reason", "")).strip():
        problems.append(("reason", "give the reason for discharge"))
    if problems:
        raise refuse(*problems)
    return data


register(
    FormSpec(
        key="discharge",
        title="Discharge the plan",
        command=cmd.DischargePlan,
        anchor="h-header",
        build=_confirmed,
        submit="Discharge",
        intro="Discharge ends treatment under this plan. The plan becomes read-only: it is "
        "still read, printed and audited, and the client may still ask for an amendment.",
        sections=fixed(
            Section(None, (
                Field("reason", "Reason for discharge", "textarea",
                      "For example: discharge criteria met; the client moved away.",
                      required=True),
                Field("confirm", "The plan becomes read-only", "checkbox", required=True),
            )),
        ),
    )
)  # fmt: skip
