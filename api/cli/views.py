"""``plantrail show | revisions | diff | reviews | findings PLAN`` and ``plantrail audit``: reading
one plan's (or one client's) history.

Each command prints a Rich tree or table for people, or the projection's JSON with ``--json``
(the same data the HTTP API serves). Clinical text is never read as Rich markup, so a statement
containing square brackets prints as written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from pydantic import ValidationError
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from plantrail.api.cli.acting import Acting, AsUser, acting
from plantrail.api.cli.app import app
from plantrail.api.cli.options import Database, Json, KeyDir
from plantrail.api.cli.output import console, print_json
from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import PlanState
from plantrail.projections.diff import fmt, plan_diff
from plantrail.projections.document import plan_document
from plantrail.projections.period_findings import (
    effective_by,
    findings_on,
    period_findings,
    recorded_by,
)
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import review_history
from plantrail.projections.revisions import revision_log
from plantrail.projections.service_dates import (
    ServiceDate,
    parse_service_dates,
    service_date_lines,
)
from plantrail.projections.vocabulary import word

PlanArg = Annotated[
    str,
    typer.Argument(help="Plan id, a unique start of one, or client MRN", show_default=False),
]


# ------------------------------------------------------------------------------ parsing
def parse_instant(value: str, field: str) -> datetime:
    """An RFC 3339 instant with its offset (``2026-03-14T09:30:00Z``)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.on(field, f"{value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise InvalidInput.on(
            field, f"{value!r} needs a time with a UTC offset, e.g. 2026-03-14T09:30:00Z"
        )
    return moment.astimezone(UTC)


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.on(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _load_point(act: Acting, plan_id: UUID, value: str, field: str) -> PlanState:
    """The plan at ``value``: a version number, or the record as of an RFC 3339 instant."""
    if value.isdigit():
        version = int(value)
        if version < 1:
            raise InvalidInput.on(field, "versions start at 1")
        return act.gateway.state(act.caller, plan_id, act.entry, view="diff", version=version)
    moment = parse_instant(value, field)
    return act.gateway.state(act.caller, plan_id, act.entry, view="diff", as_of=moment)


def _events(act: Acting, plan_id: UUID, view: str) -> list[PlanEvent]:
    return act.gateway.events(act.caller, plan_id, act.entry, view=view)


def _profile(path: Path | None) -> RuleProfile:
    if path is None:
        return RuleProfile()
    try:
        return RuleProfile.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput.on("profile", f"cannot read {path}: {error.strerror}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "profile"
        raise InvalidInput.on("profile", f"{path}: {where}: {first['msg']}") from None


# ----------------------------------------------------------------------------- rendering
def _kind(item: dict[str, Any]) -> str:
    kind = item.get("entry_kind", "original")
    return "" if kind == "original" else f" [{kind.replace('_', ' ')}]"


def _node(tree: Tree, *parts: str, style: str = "") -> Tree:
    return tree.add(Text("".join(parts), style=style))


def _plan_tree(doc: dict[str, Any]) -> Tree:
    labels = {o["id"]: o["label"] for o in doc["objectives"]}
    client, clinician = doc["client"], doc["clinician"]
    tree = Tree(
        Text(
            f"Plan {doc['plan_id']} · version {doc['version']} · {word(doc['status'])}",
            style="bold",
        )
    )
    due = doc["next_review_due"] + (" (OVERDUE)" if doc["review_overdue"] else "")
    upcoming = doc.get("next_due")
    if upcoming and upcoming["kind"] == "renewal":
        due += f"; the plan ends first: renewal due {upcoming['date']} ({upcoming['note']})"
    supervisor = doc["supervisor"]
    header = [
        f"Client: {client['name']} ({client['id']}), born {client['date_of_birth']}",
        f"Clinician: {clinician['name']}, {clinician.get('credentials') or 'no credentials'}"
        + (f", licence {clinician['license_number']}" if clinician.get("license_number") else ""),
        f"Supervisor: {supervisor['name']}" if supervisor else "Supervisor: none",
        f"Effective {doc['effective_date']} to {doc['plan_end_date']}; "
        f"{doc['service_type']}, {doc['session_minutes']}-minute sessions",
        f"Review every {doc['review_interval_days']} days; next review due {due}",
        f"Content hash {doc['content_hash']}",
    ]
    if doc.get("participants"):
        header.append(
            "Participants: "
            + "; ".join(
                f"{p['name']} ({p['role']}{', ' + p['client_id'] if p.get('client_id') else ''})"
                for p in doc["participants"]
            )
        )
    for line in header:
        _node(tree, line)
    diagnoses = tree.add(Text("Diagnoses", style="bold"))
    for d in doc["diagnoses"]:
        _node(diagnoses, f"{d['code']} {d['description']}", " (primary)" if d["primary"] else "")
    problems = tree.add(Text("Problems, goals, objectives", style="bold"))
    placed: set[str] = set()
    for p in doc["problems"]:
        node = _node(problems, f"{p['label']} [{word(p['status'])}]: {p['statement']}", _kind(p))
        for g in doc["goals"]:
            if g["problem_ids"][:1] == [p["id"]]:
                _goal(node, doc, g)
                placed.add(g["id"])
    for g in doc["goals"]:
        if g["id"] not in placed:
            _goal(problems, doc, g)
    interventions = tree.add(Text("Interventions", style="bold"))
    for i in doc["interventions"]:
        serves = ", ".join(labels.get(x, x) for x in i["objective_ids"]) or "no objective"
        _node(
            interventions,
            f"{i['label']} [{word(i['status'])}]: {i['modality']}, {i['technique']}, "
            f"{i['frequency']}",
            f" (for {serves})",
            _kind(i),
        )
    measurements = tree.add(Text("Measurements", style="bold"))
    for m in doc["measurements"]:
        _node(
            measurements,
            f"{m['label']}: {m['instrument']} {m['score']:g} on {m['administered_on']}",
            " VOIDED" if m["voided"] else "",
            _kind(m),
            style="strike" if m["voided"] else "",
        )
    for section in ("strengths", "barriers"):
        branch = tree.add(Text(section.capitalize(), style="bold"))
        for note in doc[section]:
            _node(branch, note["text"], _kind(note))
    timeline = doc["timeline"]
    _node(
        tree,
        "Timeline: "
        + (
            f"{timeline['estimated_sessions']} sessions, {timeline['session_frequency']}"
            if timeline
            else "none"
        ),
    )
    criteria = tree.add(Text("Discharge criteria", style="bold"))
    for criterion in doc["discharge_criteria"]:
        _node(criteria, criterion)
    _safety_plan(tree, doc.get("safety_plan"))
    reviews = tree.add(Text("Reviews", style="bold"))
    for r in doc["reviews"]:
        when = r["completed_effective_date"] or "in progress"
        _node(reviews, f"{r['label']} ({r['reason']}): {when}", _kind(r))
    signatures = tree.add(Text("Signatures", style="bold"))
    for s in doc["signatures"]:
        style = {"current": "green", "superseded": "yellow", "revoked": "red"}[s["status"]]
        _node(signatures, f"{s['status'].upper()}: {s['manifestation']}", style=style)
    for request in doc["signature_requests"]:
        if request["status"] == "pending":
            _node(
                signatures,
                f"PENDING: {request['signer_name']} ({request['role']}, {request['meaning']}) "
                f"requested by {request['requested_by']} on {request['requested_on']}",
                style="yellow",
            )
    return tree


def _measure_text(measure: dict[str, Any] | None) -> str:
    """' · PHQ-9 16 → 8' or, for a maintain objective, ' · PHQ-9 keep at most 4 (baseline 3)'."""
    if not measure:
        return " · no measure"
    unit = f" {measure['unit']}" if measure.get("unit") else ""
    if measure.get("direction") == "maintain":
        side = "at most" if measure.get("keep") == "at_most" else "at least"
        return (
            f" · {measure['instrument']} keep {side} {fmt(measure.get('threshold'))}{unit}"
            f" (baseline {fmt(measure.get('baseline'))})"
        )
    return (
        f" · {measure['instrument']} {fmt(measure.get('baseline'))} → "
        f"{fmt(measure.get('target'))}{unit}"
    )


def _safety_plan(tree: Tree, safety: dict[str, Any] | None) -> None:
    branch = tree.add(Text("Safety plan", style="bold"))
    if safety is None:
        _node(branch, "none")
        return
    for title, key in (
        ("Warning signs", "warning_signs"),
        ("Coping strategies", "coping_strategies"),
        ("Means restriction", "means_restriction"),
    ):
        part = branch.add(Text(title))
        for text in safety[key]:
            _node(part, text)
    contacts = branch.add(Text("Contacts"))
    for contact in safety["contacts"]:
        phone = f", {contact['phone']}" if contact.get("phone") else ""
        _node(contacts, f"{contact['name']} ({contact['kind'].replace('_', ' ')}{phone})")


def _goal(parent: Tree, doc: dict[str, Any], goal: dict[str, Any]) -> None:
    words = f' ("{goal["client_words"]}")' if goal.get("client_words") else ""
    node = _node(
        parent, f"{goal['label']} [{word(goal['status'])}]: {goal['statement']}{words}", _kind(goal)
    )
    for o in doc["objectives"]:
        if o["goal_id"] != goal["id"]:
            continue
        measure = o["measure"]
        how = _measure_text(measure)
        by = f" by {o['target_date']}" if o["target_date"] else ""
        _node(node, f"{o['label']} [{word(o['status'])}]: {o['statement']}{how}{by}", _kind(o))


def _against(o: dict[str, Any]) -> str:
    if o.get("direction") == "maintain":
        side = "at most" if o.get("keep") == "at_most" else "at least"
        breaches = o.get("breaches") or []
        return f"{o['label']} keep {side} {fmt(o.get('threshold'))}" + (
            f": BREACHED by {', '.join(breaches)}" if breaches else ": within range"
        )
    return f"{o['label']} baseline {fmt(o['baseline'])} target {fmt(o['target'])}" + (
        " reached" if o["target_reached"] else ""
    )


# ------------------------------------------------------------------------------ commands
@app.command("show")
def show_command(
    plan: PlanArg,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="What the record showed at this RFC 3339 instant."),
    ] = None,
    effective_on: Annotated[
        str | None,
        typer.Option("--effective-on", help="The plan in clinical effect on this date."),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="The plan at this version.")
    ] = None,
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Show a plan: now, as of a recorded instant, in effect on a date, or at a version."""
    moment = parse_instant(as_of, "as_of") if as_of is not None else None
    day = parse_day(effective_on, "effective_on") if effective_on is not None else None
    if version is not None and version < 1:
        raise InvalidInput.on("version", "versions start at 1")
    with acting(db, keys, user, "show") as act:
        plan_id = act.resolve(plan)
        state = act.gateway.state(
            act.caller,
            plan_id,
            act.entry,
            as_of=moment,
            effective_on=day,
            version=version,
        )
    # Judge "overdue" on the day being looked at, not today, when looking at the past.
    today = day or (moment.date() if moment else None)
    doc = plan_document(state, today=today)
    if json:
        print_json(doc)
    else:
        console.print(_plan_tree(doc))


@app.command("revisions")
def revisions_command(
    plan: PlanArg,
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Show every change to a plan: who, both times, what, and the rationale(s)."""
    with acting(db, keys, user, "revisions") as act:
        plan_id = act.resolve(plan)
        events = _events(act, plan_id, "revisions")
    log = revision_log(events, late_entry_days=act.service.late_entry_days)
    if json:
        print_json(log)
        return
    table = Table(title=f"Revisions of plan {plan_id}")
    for column in ("v", "recorded (UTC)", "effective", "kind", "by", "change", "rationale"):
        table.add_column(column)
    for row in log:
        kind = word(row["entry_kind"]) + (" (late)" if row["late_entry"] else "")
        why = Text("\n".join(r["text"] for r in row["rationales"]))
        if row["missing_rationale"]:
            why.append("MISSING RATIONALE", style="bold red")
        if row["rationale_requested"]:
            why.append("\nrationale requested", style="yellow")
        table.add_row(
            str(row["version"]),
            row["recorded_at"][:19].replace("T", " "),
            row["effective_date"],
            kind,
            Text(f"{row['actor']['name']} ({row['actor']['role']})"),
            Text(row["summary"]),
            why,
        )
    console.print(table)


@app.command("diff")
def diff_command(
    plan: PlanArg,
    start: Annotated[
        str, typer.Argument(metavar="FROM", help="Version number or RFC 3339 instant")
    ],
    end: Annotated[str, typer.Argument(metavar="TO", help="Version number or RFC 3339 instant")],
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Show what changed in a plan between two points, item by item."""
    with acting(db, keys, user, "diff") as act:
        plan_id = act.resolve(plan)
        before = _load_point(act, plan_id, start, "from")
        after = _load_point(act, plan_id, end, "to")
    result = plan_diff(before, after)
    if json:
        print_json(result)
        return
    table = Table(
        title=f"Plan {plan_id}: version {result['from_version']} → {result['to_version']}"
    )
    for column in ("item", "change", "what"):
        table.add_column(column)
    for change in result["changes"]:
        table.add_row(Text(change["label"] or ""), word(change["kind"]), Text(change["summary"]))
    console.print(table if result["changes"] else "no changes")


@app.command("reviews")
def reviews_command(
    plan: PlanArg,
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
    profile: Annotated[
        Path | None,
        typer.Option(
            "--profile",
            help="Rule profile (JSON); its copy_forward_detector 1 gives identical-only verdicts.",
        ),
    ] = None,
) -> None:
    """Show a plan's completed reviews with measurements, changes and copy-forward verdicts."""
    rules = _profile(profile)
    with acting(db, keys, user, "reviews") as act:
        plan_id = act.resolve(plan)
        events = _events(act, plan_id, "reviews")
    history = review_history(events, late_entry_days=act.service.late_entry_days, profile=rules)
    if json:
        print_json(history)
        return
    if not history:
        console.print("no completed reviews")
        return
    tree = Tree(Text(f"Reviews of plan {plan_id}", style="bold"))
    for review in history:
        verdict = review["copy_forward"]
        copied = verdict["verdict"] in ("copied_forward", "nearly_copied_forward")
        title = Text(f"{review['label']} ({review['reason']}) on {review['effective_date']}: ")
        title.append(
            f"{verdict['verdict'].replace('_', ' ')} · similarity {verdict['similarity']:.2f}"
            + (f" · streak {verdict['streak']}" if copied else "")
            + (" · summary repeated" if verdict["summary_repeated"] else "")
            + (
                f" · summary nearly repeated ({verdict['summary_similarity']:.0%})"
                if verdict.get("summary_nearly_repeated") and not verdict["summary_repeated"]
                else ""
            ),
            style="bold red" if copied else "green",
        )
        node = tree.add(title)
        for edit in verdict.get("edits", []) if verdict["verdict"] != "updated" else []:
            _node(node, f"Small edit, {edit['item']}: {edit['description'].replace('*', '')}")
        for a in review["assessments"]:
            note = f": {a['note']}" if a["note"] else ""
            status = word(a["status"])
            if a.get("outcome") == "confirmed":
                status = "confirmed met"
            elif a.get("outcome") == "reopened":
                status = f"REOPENED as {status} (was met): {a.get('rationale')}"
            _node(node, f"{a['label']} {status}{note}")
        _node(node, f"Progress: {review['progress_summary']}")
        if review["client_input"]:
            _node(node, f"Client: {review['client_input']}")
        scores = node.add(Text(f"Measurements since {review['compared_with']['effective_date']}"))
        for instrument in review["measurements"]["instruments"]:
            values = ", ".join(
                f"{v['score']:g} ({v['administered_on']})" for v in instrument["values"]
            )
            against = "; ".join(_against(o) for o in instrument["objectives"])
            _node(
                scores,
                f"{instrument['instrument']}: {instrument['count']} score(s)",
                f" {values}" if values else "",
                f" · {against}" if against else "",
            )
        changes = node.add(
            Text(f"Changes since {review['compared_with']['kind'].replace('_', ' ')}")
        )
        for change in review["changes"]:
            _node(changes, change["summary"])
    console.print(tree)


def _worded(finding: dict[str, Any]) -> str:
    """A period's finding in the words of each run when they moved during the period."""
    runs = finding["dates"]
    if len({r.get("message") for r in runs}) <= 1:
        return str(finding["message"])
    return "\n".join(
        f"{r['from'] if r['from'] == r['to'] else r['from'] + '–' + r['to']}: {r['message']}"
        for r in runs
    )


def _held(dates: list[dict[str, str]]) -> str:
    return ", ".join(d["from"] if d["from"] == d["to"] else f"{d['from']}–{d['to']}" for d in dates)


def _plan_findings(
    events: list[PlanEvent],
    rules: RuleProfile,
    *,
    as_of: str | None,
    effective_on: str | None,
    start: str | None,
    end: str | None,
    today: str | None,
) -> tuple[list[dict[str, Any]], str]:
    """The findings asked for and how to title them (see ``findings_command``)."""
    if (start is None) != (end is None):
        raise InvalidInput.on("to" if end is None else "from", "a period needs --from and --to")
    moment = parse_instant(as_of, "as_of") if as_of is not None else None
    if moment is not None:
        events = recorded_by(events, moment)
        if not events:
            raise NotFound(f"the plan had not been opened by {moment.isoformat()}")
    recorded = f" as recorded at {moment.isoformat()}" if moment else ""
    if start is not None and end is not None:
        if effective_on is not None or today is not None:
            raise InvalidInput.on(
                "from", "a period judges each day as of that day: drop --effective-on and --today"
            )
        first, last = parse_day(start, "from"), parse_day(end, "to")
        found = period_findings(events, rules, first, last, run_messages=True)
        return found, f"from {first.isoformat()} to {last.isoformat()}{recorded}"
    day = parse_day(effective_on, "effective_on") if effective_on is not None else None
    if day is not None and not any(e.originator_version == 1 for e in effective_by(events, day)):
        raise NotFound(f"the plan was not yet in effect on {day.isoformat()}")
    judged = datetime.now(UTC).date()
    judged = min(judged, moment.date()) if moment else judged
    judged = min(judged, day) if day else judged
    judged = parse_day(today, "today") if today is not None else judged
    found = findings_on(events, rules, effective_on=day, today=judged)
    where = f" in effect on {day.isoformat()}" if day else ""
    return found, f"on {judged.isoformat()}{where}{recorded}"


@app.command("findings")
def findings_command(
    plan: Annotated[
        str | None, typer.Argument(help="Plan id; without it, findings across the caseload")
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option("--profile", help="Rule profile (JSON) with the practice's thresholds."),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Judge deadlines as of this date (default: today, UTC)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The record as it stood at this RFC 3339 instant."),
    ] = None,
    effective_on: Annotated[
        str | None,
        typer.Option("--effective-on", help="The plan in clinical effect on this date."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", help="Period start: every finding held on some day (with --to)."),
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Period end, included.")] = None,
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Audit findings of one plan (now, as of an instant, on a date, or over a period), or
    across the caseload when no plan is given."""
    if plan is None:
        if any(v is not None for v in (profile, today, as_of, effective_on, start, end)):
            raise InvalidInput.on(
                "plan", "--profile, --today, --as-of, --effective-on, --from and --to need a plan"
            )
        from plantrail.api.cli.caseload_commands import print_caseload_findings

        print_caseload_findings(db, keys, None, json, user=user)
        return
    rules = _profile(profile)
    with acting(db, keys, user, "findings") as act:
        plan_id = act.resolve(plan)
        events = _events(act, plan_id, "findings")
    found, when = _plan_findings(
        events,
        rules,
        as_of=as_of,
        effective_on=effective_on,
        start=start,
        end=end,
        today=today,
    )
    if json:
        print_json(found)
        return
    if not found:
        console.print(f"no findings for plan {plan_id} {when}")
        return
    period = start is not None
    table = Table(title=f"Findings for plan {plan_id} {when}")
    for column in ("severity", "code", "item", *(["dates held"] if period else []), "finding"):
        table.add_column(column)
    colours = {"error": "red", "warning": "yellow", "info": "cyan"}
    for f in found:
        table.add_row(
            Text(f["severity"], style=colours[f["severity"]]),
            f["code"],
            Text(f["label"] or ""),
            *([Text(_held(f["dates"]))] if period else []),
            Text(_worded(f) if period else f["message"]),
        )
    console.print(table)


# --------------------------------------------------------------------------------- audit
def _service_dates(value: str) -> list[ServiceDate]:
    """``--dates``: a file (one date a line with optional CPT codes, or a ``date,cpt`` CSV), or
    a list of dates separated by commas, each optionally ``DATE:CPT`` (``2026-03-04:90837``)."""
    path = Path(value)
    if path.is_file():
        try:
            return parse_service_dates(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInput.on("dates", f"cannot read {path}: {error}") from None
    items = [item.strip() for item in value.split(",") if item.strip()]
    return parse_service_dates("\n".join(item.replace(":", " ") for item in items))


@app.command("audit")
def audit_command(
    dates: Annotated[
        str,
        typer.Option(
            "--dates",
            help="Dates of service: a file (one date a line, optional CPT codes; or a CSV with "
            "a date,cpt header) or a comma-separated list (2026-03-04:90837,2026-03-11).",
            show_default=False,
        ),
    ],
    plan: Annotated[
        str | None, typer.Option("--plan", help="Plan id, a unique start of one, or client MRN")
    ] = None,
    client: Annotated[
        str | None, typer.Option("--client", help="The client's MRN: all of their plans")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The record as it stood at this RFC 3339 instant."),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option("--profile", help="Rule profile (JSON) with the practice's thresholds."),
    ] = None,
    user: AsUser = None,
    db: Database = None,
    keys: KeyDir = None,
    json: Json = False,
) -> None:
    """Check dates of service against the plan in effect on each: covered, signed before the
    date (clinician with credentials, and client), under a year old, review not overdue."""
    if (plan is None) == (client is None):
        raise InvalidInput.on("plan", "give exactly one of --plan and --client")
    wanted = _service_dates(dates)
    moment = parse_instant(as_of, "as_of") if as_of is not None else None
    rules = _profile(profile)
    histories = []
    with acting(db, keys, user, "audit") as act:
        if plan is not None:
            plan_ids = [act.resolve(plan)]
        else:
            from plantrail.api.cli.plan_ref import plans_of_client

            assert client is not None
            plan_ids = plans_of_client(act.gateway, client)
            if not plan_ids:
                raise NotFound(f"no plan of client {client!r}")
        for plan_id in plan_ids:
            events = act.gateway.audit_events(act.caller, plan_id, act.entry, action="audit")
            if moment is not None:
                events = recorded_by(events, moment)
            if events:
                histories.append(events)
    lines = service_date_lines(histories, wanted, rules)
    if json:
        print_json({"lines": lines, "plan_ids": [str(h[0].originator_id) for h in histories]})
        return
    table = Table(title=f"Dates of service: {plan or client}")
    for column in ("date", "CPT", "result", "summary"):
        table.add_column(column)
    for line in lines:
        table.add_row(
            line["date"],
            ", ".join(line["cpt_codes"]),
            Text("OK", style="green") if line["ok"] else Text("NOT OK", style="bold red"),
            Text(line["summary"]),
        )
    console.print(table)
