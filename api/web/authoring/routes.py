"""Every authoring form, rendered, read and submitted the same way.

``GET /web/plans/{id}/write/{form}`` shows the form filled with what the plan holds;
``POST`` sends its command through ``PlanGateway.execute`` with the version the form was opened
on as If-Match and the form's one-time id as the idempotency key (a double submit stores once).
A refusal re-renders the form with what was typed and each message next to its field; a plan
changed by someone else since (412) re-renders it with what changed and an offer to reapply."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID, uuid4

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plantrail.api.rendering.templating import AUTHORING_HEADERS, page
from plantrail.api.routing.access import WRITE_PLAN
from plantrail.api.routing.common import PlanId, context
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.problems import status_of
from plantrail.api.web.authoring import (  # noqa: F401 (each registers its forms)
    specs_care,
    specs_diagnosis,
    specs_review,
)
from plantrail.api.web.authoring.fields import Section, Values, first, form_data, unchanged
from plantrail.api.web.authoring.specs import SPECS, FormSpec
from plantrail.api.web.forms import form_values, require_session_token
from plantrail.domain import commands as cmd
from plantrail.domain.errors import (
    FieldProblem,
    InvalidInput,
    NotFound,
    PlanDischargedError,
    PlantrailError,
    StaleVersion,
)
from plantrail.domain.instruments import CATALOGUE
from plantrail.domain.parsing import parse_command
from plantrail.domain.plan import PlanState
from plantrail.domain.service import CommandResult
from plantrail.domain.values import EntryKind
from plantrail.projections.access.access_log import AccessEntry, outcome_for
from plantrail.projections.access.policy import Principal
from plantrail.projections.revisions import revision_log

router = APIRouter(include_in_schema=False)

Writer = Annotated[Principal, Depends(WRITE_PLAN)]

ENTRY_KINDS: tuple[tuple[EntryKind, str], ...] = (
    ("original", "original entry (written now, about now)"),
    ("amendment", "amendment (carries out a client's accepted request)"),
    ("correction", "correction (an earlier entry was wrong)"),
    ("delayed_entry", "delayed entry (about an earlier date)"),
)
ENVELOPE = ("rationale", "entry_kind", "effective_date")


async def read_form(request: Request) -> Values:
    """The submitted form, every value of every name, after the CSRF check (``forms``)."""
    values = await form_values(request)
    require_session_token(request, first(values, "csrf_token"))
    return values


@dataclass
class PlanView:
    """What a form shows of the plan, read under the plan's lock and kept as plain values."""

    plan_id: str
    version: int
    status: str
    client_name: str
    client_id: str
    sections: tuple[Section, ...]
    options: dict[str, list[tuple[str, str]]]
    """The choices each field takes from the plan (its goals, objectives, diagnoses)."""
    prefill: Values
    defaults: Values
    item_label: str | None
    today: str
    amendments: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """The plan's amendment requests: id → (label, the change asked for, status)."""


def _item_label(state: PlanState, item: str | None) -> str | None:
    if item is None:
        return None
    for kind in (state.problems, state.goals, state.objectives, state.interventions,
                 state.measurements, state.reviews, state.amendments):  # fmt: skip
        found = kind.get(item)
        if found is not None:
            return str(getattr(found, "label", item))
    if item in state.diagnoses:
        return f"diagnosis {item}"
    raise NotFound(f"no item {item} in this plan")


def plan_view(request: Request, caller: Principal, plan_id: UUID, spec: FormSpec,
              item: str | None) -> PlanView:  # fmt: skip
    ctx = context(request)
    today = ctx.service.clock().date().isoformat()

    def read(state: PlanState) -> PlanView:
        sections = spec.sections(state, item)
        return PlanView(
            plan_id=str(state.plan_id),
            version=state.version,
            status=state.status,
            client_name=state.client.name,
            client_id=state.client.id,
            sections=sections,
            options={
                f.name: list(f.choices(state))
                for s in sections
                for f in s.fields
                if callable(f.options)
            },
            prefill=spec.prefill(state, item) if spec.prefill else {},
            defaults=spec.defaults(state, item) if spec.defaults else {},
            item_label=_item_label(state, item),
            today=today,
            amendments={
                a.id: (a.label, a.requested_change, a.status) for a in state.amendments.values()
            },
        )

    view = ctx.gateway.current(caller, plan_id, access_entry(request), read, view="author")
    if spec.practice_options is not None:
        view.options.update({k: list(v) for k, v in spec.practice_options(ctx).items()})
    return view


def render(
    request: Request,
    spec: FormSpec,
    view: PlanView,
    item: str | None,
    *,
    values: Values | None = None,
    errors: dict[str, str] | None = None,
    summary: list[str] | None = None,
    version: int | None = None,
    form_id: str | None = None,
    stale: list[dict[str, Any]] | None = None,
    elsewhere: dict[str, int] | None = None,
    verdict: dict[str, Any] | None = None,
    status: int = 200,
    amendment: str | None = None,
    notices: list[str] | None = None,
) -> HTMLResponse:
    asks_rationale = spec.revision and view.status == "active"
    shown = values if values is not None else {**view.defaults, **view.prefill}
    if spec.extra.get("code_search"):
        if values is None and (query := request.query_params.get("code_search")):
            shown["code_search"] = [query]
        view.options["code"] = specs_diagnosis.code_options(shown)
    carrying = view.amendments.get(amendment) if amendment else None
    if values is None:
        shown.setdefault("entry_kind", ["amendment" if amendment else "original"])
        shown.setdefault("effective_date", [view.today])
        # A link may preselect a field of a new item ("Add an objective" under Goal 2).
        names = {f.name for s in view.sections for f in s.fields}
        for name, given in request.query_params.multi_items():
            if name in names and name not in view.prefill:
                shown.setdefault(name, []).append(given)
        for name in spec.today_fields:
            shown.setdefault(name, [view.today])
        if carrying is not None:
            shown.setdefault("rationale", [f"Carries out {carrying[0]}: {carrying[1]}"])
    query = "&".join(
        f"{name}={value}" for name, value in (("item", item), ("amendment", amendment)) if value
    )
    response = page(
        request,
        "authoring_form.html",
        status=status,
        title=f"{spec.title}: {view.client_name}",
        spec=spec,
        view=view,
        item=item,
        values=shown,
        errors=errors or {},
        summary=summary or [],
        version=version if version is not None else view.version,
        form_id=form_id or secrets.token_urlsafe(16),
        stale=stale,
        elsewhere=elsewhere or {},
        verdict=verdict,
        asks_rationale=asks_rationale,
        asks_envelope=spec.revision or spec.asks_envelope,
        entry_kinds=ENTRY_KINDS,
        catalogue=list(CATALOGUE.values()),
        action=f"/web/plans/{view.plan_id}/write/{spec.key}" + (f"?{query}" if query else ""),
        amendment=amendment,
        carrying=carrying,
        notices=notices or [],
    )
    response.headers.update(AUTHORING_HEADERS)
    return response


def _spec(key: str) -> FormSpec:
    spec = SPECS.get(key)
    if spec is None:
        raise NotFound(f"there is no form {key!r}")
    return spec


def _item(request: Request, spec: FormSpec) -> str | None:
    item = request.query_params.get("item")
    if spec.item is not None and not item:
        raise InvalidInput.on("item", f"the form {spec.title.lower()} needs the item it changes")
    return item if spec.item is not None else None


def _amendment(request: Request, spec: FormSpec) -> str | None:
    """The amendment request a revision carries out (``?amendment=``): the form then labels
    the entry an amendment and, once the revision is stored, accepts the request naming the
    revision's version (``accept_amendment``)."""
    found = request.query_params.get("amendment") or None
    if found is not None and not spec.revision:
        raise InvalidInput.on("amendment", "only a revision carries out an amendment request")
    return found


@router.get("/plans/{plan_id}/write/{key}", name="web_author_form")
async def show_form(request: Request, plan_id: PlanId, key: str, caller: Writer) -> Response:
    spec = _spec(key)
    item = _item(request, spec)
    amendment = _amendment(request, spec)
    ctx = context(request)
    notices: list[str] = []
    if spec.notices is not None:
        tell = spec.notices
        notices = await anyio.to_thread.run_sync(
            lambda: tell(request, caller, plan_id), limiter=ctx.limiter
        )
    view = await anyio.to_thread.run_sync(
        lambda: plan_view(request, caller, plan_id, spec, item), limiter=ctx.limiter
    )
    if amendment is not None and view.amendments.get(amendment, ("", "", ""))[2] != "open":
        raise InvalidInput.on("amendment", f"{amendment} is not an open amendment request")
    verdict = None
    if spec.extra.get("continuation"):
        values = {**view.defaults, **view.prefill}
        verdict = await anyio.to_thread.run_sync(
            lambda: preview(request, caller, plan_id, spec, view, values, item, view.version),
            limiter=ctx.limiter,
        )
    return render(request, spec, view, item, amendment=amendment, notices=notices, verdict=verdict)


def draft(
    spec: FormSpec, view: PlanView, values: Values, item: str | None
) -> cmd.CompleteReview | cmd.RenewPlan:
    """The command as typed so far, for the copy-forward preview: parsed when it parses, else
    built unchecked (a review whose summary is not written yet is still judged on its plan)."""
    data = command_data(spec, view, values, item)
    model: type[cmd.CompleteReview | cmd.RenewPlan] = spec.command  # type: ignore[assignment]
    try:
        return parse_command(model, data)
    except InvalidInput:
        if spec.command is cmd.CompleteReview:
            return cmd.CompleteReview.model_construct(
                review_id=item or "",
                assessments=[
                    cmd.AssessmentIn.model_construct(**a)
                    for a in data.get("assessments", [])
                    if isinstance(a, dict)
                ],
                progress_summary=data.get("progress_summary"),  # type: ignore[arg-type]
                continuation_reason=None,
            )
        return model.model_construct(**data)


def preview(request: Request, caller: Principal, plan_id: UUID, spec: FormSpec, view: PlanView,
            values: Values, item: str | None, version: int) -> dict[str, Any]:  # fmt: skip
    """The verdict the record would get if the form were completed now."""
    command = draft(spec, view, values, item)
    found: dict[str, Any] = context(request).gateway.continuation_preview(
        caller,
        plan_id,
        command,
        access_entry(request),
        version=version,
    )
    return found


def command_data(
    spec: FormSpec, view: PlanView, values: Values, item: str | None
) -> dict[str, Any]:
    """The command's data from the form (see ``fields.form_data``), a revision's untouched
    fields left out, the item the address names added."""
    data = form_data(view.sections, values)
    if spec.revision and view.prefill:
        for name in unchanged(values, view.prefill, keep=()):
            data.pop(name, None)
    if spec.build is not None:
        data = spec.build(data, values)
    if spec.item is not None and item is not None:
        data[spec.item] = item
    return data


def envelope_of(values: Values) -> dict[str, Any]:
    return {name: first(values, name) for name in ENVELOPE if first(values, name).strip()}


def place_errors(
    error: InvalidInput | NotFound, names: Sequence[str]
) -> tuple[dict[str, str], list[str]]:
    """Each problem next to its field when the form has it (a problem about a record or a
    list, such as ``client.guardian`` or ``participants``, at its first input), else in the
    error summary."""
    errors: dict[str, str] = {}
    summary: list[str] = []
    problems: tuple[FieldProblem, ...] = error.errors or (FieldProblem("", str(error)),)
    for problem in problems:
        name = problem.field
        while name and name not in names and "." in name and not _under(name, names):
            name = name.rsplit(".", 1)[0]
        if name in names:
            errors.setdefault(name, problem.message)
        elif name and (inside := _under(name, names)):
            errors.setdefault(inside, problem.message)
        else:
            summary.append(
                f"{problem.field}: {problem.message}" if problem.field else problem.message
            )
    return errors, summary


def _under(name: str, names: Sequence[str]) -> str | None:
    """The first input inside the record or list ``name`` (``contacts`` → ``contacts.0.name``)."""
    return next((n for n in names if n.startswith(f"{name}.")), None)


def form_names(sections: Sequence[Section]) -> list[str]:
    """Every input of a form in page order, the entry's own (rationale...) last."""
    return [f.name for s in sections for f in s.fields] + list(ENVELOPE)


def changes_since(
    request: Request, caller: Principal, plan_id: UUID, version: int
) -> list[dict[str, Any]]:
    """Who changed what after ``version``: what a clinician whose form went stale reads."""
    ctx = context(request)
    events = ctx.gateway.events(caller, plan_id, access_entry(request), view="revisions")
    log = revision_log(events, late_entry_days=ctx.service.late_entry_days)
    return [row for row in log if row["version"] > version]


NOTIFIED = "notified"
"""The input of a form that carries out an amendment request: who was told of the change."""


@router.post("/plans/{plan_id}/write/{key}", name="web_author_submit")
async def submit_form(request: Request, plan_id: PlanId, key: str, caller: Writer) -> Response:
    spec = _spec(key)
    item = _item(request, spec)
    amendment = _amendment(request, spec)
    values = await read_form(request)
    if amendment is None and first(values, "amendment"):
        amendment = first(values, "amendment")
        if not spec.revision:
            raise InvalidInput.on("amendment", "only a revision carries out an amendment request")
    ctx = context(request)
    entry = access_entry(request)
    view = await anyio.to_thread.run_sync(
        lambda: plan_view(request, caller, plan_id, spec, item), limiter=ctx.limiter
    )
    raw_version = first(values, "version")
    version = int(raw_version) if raw_version.isdigit() and len(raw_version) < 11 else None
    form_id = first(values, "form_id") or None

    def again(status: int, **extra: Any) -> HTMLResponse:
        return render(request, spec, view, item, values=values, version=version,
                      form_id=form_id, status=status, amendment=amendment,
                      **extra)  # fmt: skip

    if version is None:
        return again(422, summary=["the form lost the plan's version; reload the page"])
    judged = version if version <= view.version else view.version
    if spec.extra.get("continuation"):
        verdict = await anyio.to_thread.run_sync(
            lambda: preview(request, caller, plan_id, spec, view, values, item, judged),
            limiter=ctx.limiter,
        )
        if first(values, "action") == "check":
            return again(200, verdict=verdict)
    else:
        verdict = None
    if spec.extra.get("code_search") and first(values, "action") == "search":
        return again(200)
    if amendment is not None and view.amendments.get(amendment, ("", "", ""))[2] == "accepted":
        # Sent again after it stored (a double submit): the request is carried out already.
        return RedirectResponse(
            f"/web/plans/{plan_id}#amendment-{amendment}", status_code=303,
            headers=AUTHORING_HEADERS,
        )  # fmt: skip
    if amendment is not None:
        refused = _carrying_refusal(view, values, amendment)
        if refused:
            return again(422, errors=refused)
    if spec.many is not None:
        return await send_many(
            request, caller, plan_id, spec, values, version, form_id, again,
            lambda stale: render(request, spec, view, item, values=values, stale=stale,
                                 status=412, version=view.version),
        )  # fmt: skip
    try:
        data = command_data(spec, view, values, item)
        if spec.complete is not None:
            complete = spec.complete
            data = await anyio.to_thread.run_sync(
                lambda: complete(data, caller, ctx), limiter=ctx.limiter
            )
        command = parse_command(spec.command, data)
        if spec.statements and first(values, "keep_wording") != "yes":
            elsewhere = await anyio.to_thread.run_sync(
                lambda: {
                    name: ctx.gateway.statement_elsewhere(caller, plan_id, text, entry)
                    for name in spec.statements
                    if isinstance(text := getattr(command, name, None), str)
                },
                limiter=ctx.limiter,
            )
            if any(elsewhere.values()):
                return again(200, elsewhere={k: v for k, v in elsewhere.items() if v})
        if amendment is not None:
            result = await logged_write(
                request, caller, plan_id, command, envelope_of(values),
                if_match=version, idempotency_key=form_id,
            )  # fmt: skip
        else:
            result = await anyio.to_thread.run_sync(
                lambda: ctx.gateway.execute(
                    caller, plan_id, command, envelope_of(values),  # type: ignore[arg-type]
                    if_match=version, idempotency_key=form_id, entry=entry,
                ),
                limiter=ctx.limiter,
            )  # fmt: skip
    except StaleVersion:
        stale = await anyio.to_thread.run_sync(
            lambda: changes_since(request, caller, plan_id, version or 0), limiter=ctx.limiter
        )
        # Reapplying is a new submission on the current version: a new form id.
        return render(request, spec, view, item, values=values, stale=stale,
                      status=412, version=view.version, amendment=amendment)  # fmt: skip
    except (InvalidInput, NotFound) as error:
        errors, summary = place_errors(error, form_names(view.sections))
        return again(422, errors=errors, summary=summary, verdict=verdict)
    except PlanDischargedError as error:
        return again(409, summary=[str(error)])
    if amendment is not None:
        try:
            await accept_amendment(request, caller, plan_id, amendment, result.version,
                                   first(values, NOTIFIED), form_id)  # fmt: skip
        except (InvalidInput, NotFound, StaleVersion, PlanDischargedError) as error:
            return again(409, summary=[
                f"The revision was saved as version {result.version}, but the request could "
                f"not be marked accepted: {error}. Send this form again to retry."
            ])  # fmt: skip
        return RedirectResponse(
            f"/web/plans/{plan_id}?saved={spec.key}#amendment-{amendment}", status_code=303,
            headers=AUTHORING_HEADERS,
        )  # fmt: skip
    target = result.item_id if result.created and result.item_id else item
    anchor = f"item-{target}" if target and target != str(plan_id) else spec.anchor
    return RedirectResponse(
        f"/web/plans/{plan_id}?saved={spec.key}#{anchor}", status_code=303,
        headers=AUTHORING_HEADERS,
    )  # fmt: skip


# ------------------------------------------------------------ writes of their own in the log
async def logged_write(
    request: Request,
    caller: Principal,
    plan_id: UUID,
    command: cmd.Command,
    envelope: dict[str, Any],
    *,
    if_match: int,
    idempotency_key: str | None,
) -> CommandResult:
    """One of several writes a single form makes (a session's scores, a revision and the
    acceptance it carries out): each is its own access-log row, stored with its events like
    any write's (``access_log.pending_write``) and logged with its own outcome, since one
    request's row can stand for one write only."""
    ctx = context(request)
    base = access_entry(request)
    route = getattr(request.scope.get("route"), "path", None)
    entry = AccessEntry(
        method=base.method,
        route=request.scope.get("root_path", "") + route if route else base.route,
        user_id=base.user_id,
        role=base.role,
        client_address=base.client_address,
        pending_id=uuid4().hex,
    )
    status = 500
    try:
        result = await anyio.to_thread.run_sync(
            lambda: ctx.gateway.execute(
                caller, plan_id, command, envelope,  # type: ignore[arg-type]
                if_match=if_match, idempotency_key=idempotency_key, entry=entry,
            ),
            limiter=ctx.limiter,
        )  # fmt: skip
        status = 201 if result.created else 200
        return result
    except PlantrailError as error:
        status = status_of(error)[0]
        raise
    finally:
        entry.status = status
        if entry.outcome is None or (status >= 400 and entry.outcome == "ok"):
            entry.outcome = outcome_for(status)
        await asyncio.wrap_future(ctx.access_log.submit(entry))


# ------------------------------------------------------------- carrying out an amendment
def _carrying_refusal(view: PlanView, values: Values, amendment: str) -> dict[str, str]:
    """Why a revision cannot carry out ``amendment``, by field; checked before anything is
    stored, so a refusal never leaves a revision without its acceptance."""
    errors: dict[str, str] = {}
    if view.amendments.get(amendment, ("", "", ""))[2] != "open":
        errors[NOTIFIED] = f"{amendment} is not an open amendment request of this plan"
    elif not first(values, NOTIFIED).strip():
        errors[NOTIFIED] = "say who was told of the amendment (the client, and anyone they named)"
    if first(values, "entry_kind") != "amendment":
        errors["entry_kind"] = "a revision that carries out a request is an amendment entry"
    return errors


async def accept_amendment(
    request: Request,
    caller: Principal,
    plan_id: UUID,
    amendment: str,
    version: int,
    notified: str,
    form_id: str | None,
) -> None:
    """Accept the request the revision just stored at ``version`` carried out: the version is
    the revision's own, so nobody types it (``AcceptAmendment``; the API still takes one)."""
    command = parse_command(
        cmd.AcceptAmendment,
        {"amendment_id": amendment, "carried_out_in_version": version, "notified": notified},
    )
    await logged_write(
        request, caller, plan_id, command, {}, if_match=version,
        idempotency_key=f"{form_id}:accept" if form_id else None,
    )  # fmt: skip


# ------------------------------------------------------------------ several commands at once
async def send_many(
    request: Request,
    caller: Principal,
    plan_id: UUID,
    spec: FormSpec,
    values: Values,
    version: int,
    form_id: str | None,
    again: Callable[..., HTMLResponse],
    stale_form: Callable[[list[dict[str, Any]]], HTMLResponse],
) -> Response:
    """A form of several commands (``FormSpec.many``): every row validated first, so that an
    error anywhere stores nothing; then sent one after another, If-Match chained (the form's
    version, then each next one) and keyed ``<form id>:<row>``, so a double submit replays
    the stored answers instead of storing twice. A row the engine refuses after earlier rows
    were stored is named, with exactly which rows were saved."""
    assert spec.many is not None
    ctx = context(request)
    try:
        commands = spec.many(values)
    except InvalidInput as error:
        names = set(values) | set(ENVELOPE)
        errors, summary = _row_errors(error, names)
        return again(422, errors=errors, summary=summary)
    saved: list[str] = []
    for n, (row, command) in enumerate(commands):
        try:
            await logged_write(
                request, caller, plan_id, command, envelope_of(values), if_match=version + n,
                idempotency_key=f"{form_id}:{row}" if form_id else None,
            )  # fmt: skip
        except StaleVersion:
            if not saved:
                stale = await anyio.to_thread.run_sync(
                    lambda: changes_since(request, caller, plan_id, version), limiter=ctx.limiter
                )
                return stale_form(stale)
            return again(409, summary=[_partly(saved, row, "the plan changed meanwhile")])
        except (InvalidInput, NotFound, PlanDischargedError) as error:
            problems = getattr(error, "errors", ()) or (FieldProblem("", str(error)),)
            errors = {
                f"{row}.{p.field}" if p.field and f"{row}.{p.field}" in values else p.field: (
                    p.message
                )
                for p in problems
                if p.field
            }
            unplaced = [p.message for p in problems if not p.field]
            if not saved:
                return again(422, errors=errors, summary=unplaced)
            return again(
                409,
                errors=errors,
                summary=[_partly(saved, row, "; ".join(p.message for p in problems))],
            )
        saved.append(row)
    return RedirectResponse(
        f"/web/plans/{plan_id}?saved={spec.key}#{spec.anchor}", status_code=303,
        headers=AUTHORING_HEADERS,
    )  # fmt: skip


def _row_label(row: str) -> str:
    """``scores.1`` → ``row 2``."""
    last = row.rsplit(".", 1)[-1]
    return f"row {int(last) + 1}" if last.isdigit() else row


def _partly(saved: list[str], refused: str, why: str) -> str:
    return (
        f"Saved: {', '.join(_row_label(r) for r in saved)}. Not saved: {_row_label(refused)} "
        f"({why}) and any row after it. Correct it and send the form again: the saved rows "
        "are not stored twice."
    )


def _row_errors(error: InvalidInput, names: set[str]) -> tuple[dict[str, str], list[str]]:
    errors: dict[str, str] = {}
    summary: list[str] = []
    for problem in error.errors or (FieldProblem("", str(error)),):
        if problem.field in names:
            errors.setdefault(problem.field, problem.message)
        else:
            summary.append(problem.message)
    return errors, summary
