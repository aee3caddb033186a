"""Every authoring form, rendered, read and submitted the same way.

``GET /web/plans/{id}/write/{form}`` shows the form filled with what the plan holds;
``POST`` sends its command through ``PlanGateway.execute`` with the version the form was opened
on as If-Match and the form's one-time id as the idempotency key (a double submit stores once).
A refusal re-renders the form with what was typed and each message next to its field; a plan
changed by someone else since (412) re-renders it with what changed and an offer to reapply."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plantrail.api.rendering.templating import AUTHORING_HEADERS, page, session_of
from plantrail.api.routing.access import WRITE_PLAN
from plantrail.api.routing.common import PlanId, context
from plantrail.api.routing.context import access_entry
from plantrail.api.routing.problems import HTTPProblem
from plantrail.api.web.authoring import specs_diagnosis, specs_review  # noqa: F401 (their forms)
from plantrail.api.web.authoring.fields import Section, Values, first, form_data, unchanged
from plantrail.api.web.authoring.specs import SPECS, FormSpec
from plantrail.api.web.forms import MAX_FORM_BYTES, same_token
from plantrail.domain import commands as cmd
from plantrail.domain.errors import (
    FieldProblem,
    InvalidInput,
    NotFound,
    PlanDischargedError,
    StaleVersion,
)
from plantrail.domain.instruments import CATALOGUE
from plantrail.domain.parsing import parse_command
from plantrail.domain.plan import PlanState
from plantrail.domain.values import EntryKind
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
    """The submitted form, every value of every name (a list of checkboxes sends several), after
    the CSRF check; the same limits as the pages' other forms."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPProblem(415, "the pages send forms as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPProblem(413, f"the form is over the limit of {MAX_FORM_BYTES} bytes")
    try:
        values = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise HTTPProblem(400, "the form is not UTF-8") from None
    session = session_of(request)
    if session is None or not same_token(first(values, "csrf_token"), session.csrf_token):
        access_entry(request).outcome = "rejected"
        raise HTTPProblem(403, "this form was not sent from your session; reload the page")
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
        )

    return ctx.gateway.current(caller, plan_id, access_entry(request), read, view="author")


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
) -> HTMLResponse:
    asks_rationale = spec.revision and view.status == "active"
    shown = values if values is not None else {**view.defaults, **view.prefill}
    if spec.extra.get("code_search"):
        if values is None and (query := request.query_params.get("code_search")):
            shown["code_search"] = [query]
        view.options["code"] = specs_diagnosis.code_options(shown)
    if values is None:
        shown.setdefault("entry_kind", ["original"])
        shown.setdefault("effective_date", [view.today])
        # A link may preselect a field of a new item ("Add an objective" under Goal 2).
        names = {f.name for s in view.sections for f in s.fields}
        for name, given in request.query_params.multi_items():
            if name in names and name not in view.prefill:
                shown.setdefault(name, []).append(given)
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
        action=f"/web/plans/{view.plan_id}/write/{spec.key}" + (f"?item={item}" if item else ""),
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


@router.get("/plans/{plan_id}/write/{key}", name="web_author_form")
async def show_form(request: Request, plan_id: PlanId, key: str, caller: Writer) -> Response:
    spec = _spec(key)
    item = _item(request, spec)
    ctx = context(request)
    view = await anyio.to_thread.run_sync(
        lambda: plan_view(request, caller, plan_id, spec, item), limiter=ctx.limiter
    )
    verdict = None
    if spec.extra.get("continuation"):
        values = {**view.defaults, **view.prefill}
        verdict = await anyio.to_thread.run_sync(
            lambda: preview(request, caller, plan_id, spec, view, values, item, view.version),
            limiter=ctx.limiter,
        )
    return render(request, spec, view, item, verdict=verdict)


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


@router.post("/plans/{plan_id}/write/{key}", name="web_author_submit")
async def submit_form(request: Request, plan_id: PlanId, key: str, caller: Writer) -> Response:
    spec = _spec(key)
    item = _item(request, spec)
    values = await read_form(request)
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
                      form_id=form_id, status=status, **extra)  # fmt: skip

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
    try:
        data = command_data(spec, view, values, item)
        command = parse_command(spec.command, data)
        if (
            spec.statements
            and first(values, "keep_wording") != "yes"
            and hasattr(ctx.gateway, "statement_elsewhere")
        ):  # TODO-MERGE
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
                      status=412, version=view.version)  # fmt: skip
    except (InvalidInput, NotFound) as error:
        errors, summary = place_errors(error, form_names(view.sections))
        return again(422, errors=errors, summary=summary, verdict=verdict)
    except PlanDischargedError as error:
        return again(409, summary=[str(error)])
    target = result.item_id if result.created and result.item_id else item
    anchor = f"item-{target}" if target and target != str(plan_id) else spec.anchor
    return RedirectResponse(
        f"/web/plans/{plan_id}?saved={spec.key}#{anchor}", status_code=303,
        headers=AUTHORING_HEADERS,
    )  # fmt: skip
