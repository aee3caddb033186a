"""The packet's parts laid out as reportlab flowables, one function a part.

Tables repeat their header row on every page and never split a row (reportlab moves a row that
does not fit to the next page whole); every cell is a paragraph, so long statements wrap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import date
from typing import Any

from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from plantrail.api.packet.chart import score_chart
from plantrail.api.packet.styles import (
    BODY,
    CELL,
    CELL_SMALL,
    H1,
    H2,
    H3,
    HASH,
    RULE,
    SHADE,
    SMALL,
    text,
)
from plantrail.api.rendering.word_diff import word_diff
from plantrail.projections.diff import fmt
from plantrail.projections.findings import FINDINGS
from plantrail.projections.packet import PARTS
from plantrail.projections.vocabulary import field_path, word

Cell = Any
"""A table cell: paragraph markup, or a flowable as it is."""
Flowables = list[Any]


def when(value: str | None) -> str:
    """'2026-02-16T09:51:00Z' → '2026-02-16 09:51 UTC'."""
    if not value:
        return "—"
    return value.replace("T", " ")[:16] + " UTC"


LAYOUT_1: ContextVar[bool] = ContextVar("LAYOUT_1", default=False)
"""True while a format-1 packet is laid out again to verify it: its identifiers were printed
with underscores turned to spaces and its diff paths as they are, so they are again."""


def words(value: str | None) -> str:
    """An identifier in the one vocabulary (``projections/vocabulary.py``)."""
    if LAYOUT_1.get():
        return (value or "").replace("_", " ")
    return word(value)


def field(path: str) -> str:
    """A diff's field path in words (format 2 on)."""
    return path if LAYOUT_1.get() else field_path(path)


def person(raw: Mapping[str, Any] | None) -> str:
    if not raw:
        return "—"
    name = str(raw.get("name") or raw.get("user_id") or "")
    credentials = raw.get("credentials")
    return f"{name}, {credentials}" if credentials else name


MAX_ROW_HEIGHT = 480.0
"""Points. A row taller than this (a statement of thousands of words) could not fit on one page;
it is laid out as paragraphs between two parts of its table, which may flow across pages."""

_GRID = [
    ("GRID", (0, 0), (-1, -1), 0.4, RULE),
    ("BACKGROUND", (0, 0), (-1, 0), SHADE),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
]
_FACTS = [
    ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 2),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
]


def _cell(value: Cell, style: Any, head: bool = False) -> Any:
    if isinstance(value, Flowable):
        return value
    return Paragraph(f"<b>{value}</b>" if head else value, style)


def _surely_short(value: Cell, style: Any, width: float) -> bool:
    """Whether a cell is certainly shorter than ``MAX_ROW_HEIGHT`` without laying it out: no
    glyph of the font is wider than its size, and word wrapping at most doubles the lines. Laying
    out every cell twice (here and in the table) was a third of a long packet's time."""
    if isinstance(value, Flowable):
        return False
    text = str(value)
    per_line = max(1.0, width / style.fontSize)
    lines = text.count("<br") + 1 + 2 * len(text) / per_line
    return bool(lines * style.leading <= MAX_ROW_HEIGHT)


def _rows(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[Cell]],
    widths: Sequence[float],
    style: Any,
    grid: list[Any],
) -> Flowables:
    """Tables of ``rows``, each row whole on one page; a row too tall for any page becomes
    labelled paragraphs in its place (see ``MAX_ROW_HEIGHT``)."""
    out: Flowables = []
    chunk: list[list[Any]] = []

    def flush() -> None:
        data = ([[_cell(h, style, True) for h in header]] if header else []) + chunk
        if not data:
            return
        t = Table(data, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
        t.setStyle(TableStyle(grid))
        out.append(t)
        chunk.clear()

    for row in rows:
        cells = [_cell(v, style) for v in row]
        if all(_surely_short(v, style, w - 6) for v, w in zip(row, widths, strict=True)) or (
            max(c.wrap(w - 6, 1e9)[1] for c, w in zip(cells, widths, strict=True)) <= MAX_ROW_HEIGHT
        ):
            chunk.append(cells)
            continue
        flush()
        labels = header or ["", *([""] * len(row))]
        for label, value in zip(labels, row, strict=False):
            if isinstance(value, Flowable):
                out.append(value)
            else:
                out.append(Paragraph(f"<b>{label}</b> {value}" if label else value, style))
        out.append(Spacer(0, 4))
    if chunk or not out:
        flush()
    return out


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    widths: Sequence[float],
    *,
    style: Any = CELL,
) -> Flowables:
    """A bordered table whose header repeats on each page and whose rows never split."""
    return _rows(header, rows, widths, style, _GRID)


def facts(rows: Sequence[tuple[str, Cell]], widths: Sequence[float]) -> Flowables:
    """A two-column label/value table without a header."""
    labelled = [[f"<b>{label}</b>", value] for label, value in rows]
    return _rows(None, labelled, widths, CELL, _FACTS)


def heading(part: str) -> Flowables:
    number = list(PARTS).index(part)
    return [CondPageBreak(120), Paragraph(f"{number}. {text(PARTS[part])}", H1)]


# ---------------------------------------------------------------------------- the plan
def _requests_on(key: str, amendments: Sequence[Mapping[str, Any]], number: int) -> str:
    """The amendment requests that concern one plan item, with their statements, for its row."""
    lines = []
    for a in amendments:
        if key not in a["item_ids"]:
            continue
        line = f"{text(a['label'])} ({words(a['status'])}; see part {number})"
        decision = a["decision"]
        if decision and decision["denial_text"]:
            line += f": denied: {text(decision['denial_text'])}"
        if a["disagreement_statement"]:
            said = a["disagreement_statement"]["statement"]
            line += f" <b>Statement of disagreement:</b> “{text(said)}”"
        if a["rebuttal"]:
            line += f" <b>Rebuttal:</b> {text(a['rebuttal']['rebuttal'])}"
        lines.append(line)
    if not lines:
        return ""
    return "<br/><font color='#0b5cad'>" + "<br/>".join(lines) + "</font>"


def plan_part(
    part: Mapping[str, Any], width: float, amendments: Sequence[Mapping[str, Any]] = ()
) -> Flowables:
    """The plan; each item a request concerns carries the request and its statements."""
    out = heading("plan")
    number = list(PARTS).index("amendments")

    def noted(key: str) -> str:
        return _requests_on(key, amendments, number)

    document = part["document"]
    if document is None:
        out.append(
            Paragraph(
                f"No plan was in effect on {part['effective_on']}, and the plan has not been "
                "signed by its clinician since: it is a draft (see the events below).",
                BODY,
            )
        )
        return out
    if not part["in_effect"]:
        out.append(
            Paragraph(
                f"<b>No plan was in effect on {part['effective_on']}.</b> Shown instead: the plan "
                f"as it took effect on {document['activated_on']}, when its clinician signed it "
                f"(version {document['version']}).",
                BODY,
            )
        )
    out.append(
        Paragraph(
            f"Version {document['version']} · status {text(words(document['status']))} · effective "
            f"{document['effective_date']} · ends {document['plan_end_date']} · review every "
            f"{document['review_interval_days']} days · {text(words(document['service_type']))}"
            f", {document['session_minutes']}-minute sessions",
            BODY,
        )
    )
    labels = {o["id"]: o["label"] for o in document["objectives"]}
    if document["diagnoses"]:
        out.append(Paragraph("Diagnoses", H2))
        out.extend(
            table(
                ["Code", "Description", "Primary"],
                [
                    [
                        text(d["code"]),
                        text(d["description"]) + noted(d["code"]),
                        "yes" if d["primary"] else "",
                    ]
                    for d in document["diagnoses"]
                ],
                [0.14 * width, 0.7 * width, 0.16 * width],
            )
        )
    goals_by_problem: dict[str, list[Mapping[str, Any]]] = {}
    for goal in document["goals"]:
        for pid in goal["problem_ids"] or [""]:
            goals_by_problem.setdefault(pid, []).append(goal)
    objectives_by_goal: dict[str, list[Mapping[str, Any]]] = {}
    for objective in document["objectives"]:
        objectives_by_goal.setdefault(objective["goal_id"], []).append(objective)
    out.append(Paragraph("Problems, goals and objectives", H2))
    rows: list[list[Cell]] = []
    for problem in document["problems"]:
        rows.append(
            [
                text(problem["label"]),
                f"{text(problem['statement'])} <font color='#4a5260'>"
                f"({text(', '.join(problem['diagnosis_codes']))}; {words(problem['status'])})"
                "</font>" + noted(problem["id"]),
            ]
        )
        for goal in goals_by_problem.get(problem["id"], []):
            said = f" <i>Client: “{text(goal['client_words'])}”</i>" if goal["client_words"] else ""
            rows.append(
                [
                    f"&nbsp;&nbsp;{text(goal['label'])}",
                    text(goal["statement"]) + said + noted(goal["id"]),
                ]
            )
            for objective in objectives_by_goal.get(goal["id"], []):
                rows.append(
                    [
                        f"&nbsp;&nbsp;&nbsp;&nbsp;{text(objective['label'])}",
                        _objective(objective) + noted(objective["id"]),
                    ]
                )
    out.extend(table(["Item", "Statement"], rows, [0.17 * width, 0.83 * width]))
    if document["interventions"]:
        out.append(Paragraph("Interventions", H2))
        out.extend(
            table(
                ["Item", "Modality and technique", "Frequency", "Serves", "Status"],
                [
                    [
                        text(i["label"]),
                        f"<b>{text(i['modality'])}</b>: {text(i['technique'])}" + noted(i["id"]),
                        text(i["frequency"]),
                        text(", ".join(labels.get(o, o) for o in i["objective_ids"])),
                        words(i["status"]),
                    ]
                    for i in document["interventions"]
                ],
                [0.14 * width, 0.42 * width, 0.16 * width, 0.16 * width, 0.12 * width],
            )
        )
    for name, title in (("strengths", "Strengths"), ("barriers", "Barriers")):
        if document[name]:
            out.append(Paragraph(title, H2))
            out.extend(Paragraph(f"• {text(item['text'])}", BODY) for item in document[name])
    out.append(Paragraph("Discharge criteria", H2))
    criteria = document["discharge_criteria"] or []
    out.extend(Paragraph(f"• {text(c)}", BODY) for c in criteria)
    if not criteria:
        out.append(Paragraph("None recorded.", BODY))
    if safety := document.get("safety_plan"):
        out.append(Paragraph("Safety plan", H2))
        for key, title in (
            ("warning_signs", "Warning signs"),
            ("coping_strategies", "Coping strategies"),
            ("means_restriction", "Means restriction"),
        ):
            listed = "; ".join(text(x) for x in safety[key]) or "none recorded"
            out.append(Paragraph(f"<b>{title}</b>: {listed}", BODY))
        contacts = "; ".join(
            text(f"{c['name']} ({words(c['kind'])}{', ' + c['phone'] if c.get('phone') else ''})")
            for c in safety["contacts"]
        )
        out.append(Paragraph(f"<b>Contacts</b>: {contacts}", BODY))
    return out


def _objective(o: Mapping[str, Any]) -> str:
    measure = o["measure"]
    parts = [text(o["statement"])]
    detail = [f"status {words(o['status'])}"]
    if measure and measure["direction"] == "maintain":
        side = "at most" if measure.get("keep") == "at_most" else "at least"
        detail.append(
            f"{text(measure['instrument'])}: baseline {fmt(measure['baseline'])}, keep {side} "
            f"{fmt(measure.get('threshold'))} (maintain)"
        )
    elif measure:
        detail.append(
            f"{text(measure['instrument'])}: baseline {fmt(measure['baseline'])}, target "
            f"{fmt(measure['target'])} ({measure['direction']})"
        )
    detail.append(f"target date {o['target_date'] or '—'}")
    parts.append(f"<font color='#4a5260'>{'; '.join(detail)}</font>")
    return " ".join(parts)


# ------------------------------------------------------------------------- revisions
def _marked(pieces: Sequence[tuple[str, str]], mark: str) -> str:
    tag = ("<strike><font color='#a4161a'>", "</font></strike>") if mark == "removed" else (
        "<u><font color='#0b6b2e'>", "</font></u>")  # fmt: skip
    return "".join(
        f"{tag[0]}{text(piece)}{tag[1]}" if kind == mark else text(piece) for kind, piece in pieces
    )


def _change_cells(change: Mapping[str, Any]) -> tuple[str, str]:
    was, now = change["before"], change["after"]
    if change["kind"] == "changed" and isinstance(was, str) and isinstance(now, str):
        left, right = word_diff(was, now)
        return _marked(left, "removed"), _marked(right, "added")
    if change["kind"] == "added":
        return "<i>not there</i>", text(change["summary"])
    if change["kind"] == "removed":
        return text(change["summary"]), "<i>removed</i>"
    return (
        text(fmt(was)) if was is not None else "<i>not there</i>",
        text(fmt(now)) if now is not None else "<i>removed</i>",
    )


def _rationale(entry: Mapping[str, Any]) -> str:
    notes = entry["rationales"]
    if notes:
        return "<br/>".join(
            f"{text(n.get('text'))} <font color='#4a5260'>({words(n.get('kind'))}, version "
            f"{n.get('version')}, {text(person(n.get('by')))})</font>"
            for n in notes
        )
    if entry["missing_rationale"]:
        return "<font color='#a4161a'><b>No rationale recorded</b></font>"
    return "<font color='#4a5260'>none required</font>"


def revisions_part(entries: Sequence[Mapping[str, Any]], width: float) -> Flowables:
    out = heading("revisions")
    if not entries:
        out.append(
            Paragraph("No revision of the plan was made or took effect in the period.", BODY)
        )
        return out
    out.append(
        Paragraph(
            "Each revision with who made it, when it was recorded and the date it took effect, its "
            "kind of entry and its rationale. In the changes, <strike><font color='#a4161a'>struck "
            "words</font></strike> were removed and <u><font color='#0b6b2e'>underlined words"
            "</font></u> added.",
            SMALL,
        )
    )
    for entry in entries:
        kind = words(entry["entry_kind"]) + (" (late entry)" if entry["late_entry"] else "")
        block: Flowables = [
            Paragraph(f"Version {entry['version']}: {text(entry['summary'])}", H3),
            *facts(
                [
                    ("By", text(person(entry["actor"]))),
                    (
                        "Recorded / effective",
                        f"{when(entry['recorded_at'])} / {entry['effective_date']}",
                    ),
                    ("Entry", text(kind)),
                    ("Rationale", _rationale(entry)),
                ],
                [0.2 * width, 0.8 * width],
            ),
            Spacer(0, 3),
        ]
        rows = []
        for change in entry["changes"]:
            left, right = _change_cells(change)
            rows.append([text(field(change["path"])), left, right])
        out.append(KeepTogether(block))
        out.extend(
            table(["Change", "Before", "After"], rows, [0.22 * width, 0.39 * width, 0.39 * width])
        )
        out.append(Spacer(0, 6))
    return out


# --------------------------------------------------------------------------- reviews
def _verdict(review: Mapping[str, Any]) -> str:
    verdict = review.get("copy_forward") or {}
    name = verdict.get("verdict")
    if name == "copied_forward":
        return (
            f"<font color='#a4161a'><b>copied forward</b></font> (nothing in the plan language "
            f"changed; {verdict.get('streak')} in a row)"
        )
    if name is None:
        return "—"
    summary = (
        f"; progress summary {verdict['summary_similarity']:.0%} the same as the previous one"
        if verdict.get("summary_nearly_repeated")
        else ""
    )
    if name == "nearly_copied_forward":
        edits = "; ".join(
            f"{e['item']}: {e['description'].replace('*', '')}" for e in verdict.get("edits", [])
        )
        return (
            f"<font color='#a4161a'><b>nearly copied forward</b></font> (only small edits, "
            f"nothing clinically meaningful: {text(edits)}; {verdict.get('streak')} in a row"
            f"{summary})"
        )
    return f"{words(name)} (similarity {verdict.get('similarity', 0):.2f}{summary})"


def reviews_part(part: Mapping[str, Any], start: date, end: date, width: float) -> Flowables:
    out = heading("reviews")
    reviews = part["reviews"]
    if not reviews:
        out.append(Paragraph("No review was held in the period.", BODY))
    for review in reviews:
        compared = review.get("compared_with") or {}
        block: Flowables = [
            Paragraph(
                f"{text(review['label'])} on {review['effective_date']} "
                f"({words(review['reason'])})",
                H3,
            ),
            *facts(
                [
                    (
                        "Completed",
                        f"{when(review['completed_at'])} by {text(person(review['completed_by']))}",
                    ),
                    (
                        "Entry",
                        words(review["entry_kind"])
                        + (" (late entry)" if review["late_entry"] else ""),
                    ),
                    ("Copy-forward verdict", _verdict(review)),
                    *(
                        [("Continuation reason", text(review["continuation_reason"]))]
                        if review.get("continuation_reason")
                        else []
                    ),
                    (
                        "Compared with",
                        text(
                            f"{words(compared.get('kind'))} {compared.get('label') or ''} "
                            f"(version {compared.get('version')})"
                        ),
                    ),
                    ("Progress summary", text(review["progress_summary"])),
                    ("Client's words", text(review["client_input"]) or "—"),
                    ("Next review", text(review["next_review_date"]) or "—"),
                ],
                [0.2 * width, 0.8 * width],
            ),
        ]
        out.append(KeepTogether(block))
        if review["assessments"]:
            out.extend(
                table(
                    ["Objective", "Assessed", "Note"],
                    [
                        [text(a["label"]), words(a["status"]), text(a["note"]) or "—"]
                        for a in review["assessments"]
                    ],
                    [0.2 * width, 0.2 * width, 0.6 * width],
                )
            )
        rows = [
            [
                text(instrument["instrument"]),
                text(value["label"]),
                fmt(value["score"]),
                value["administered_on"],
                when(value["recorded_at"]),
            ]
            for instrument in (review.get("measurements") or {}).get("instruments", [])
            for value in instrument["values"]
        ]
        if rows:
            out.append(Spacer(0, 3))
            out.extend(
                table(
                    ["Instrument", "Score", "Value", "Administered", "Recorded"],
                    rows,
                    [0.2 * width, 0.2 * width, 0.12 * width, 0.2 * width, 0.28 * width],
                )
            )
        out.append(Spacer(0, 6))
    if part["charts"]:
        out.append(Paragraph("Scores in the period", H2))
    for chart in part["charts"]:
        measure = chart["measure"] or {}
        caption = Paragraph(
            f"<b>{text(chart['label'])}</b>: {text(chart['statement'])} "
            f"<font color='#4a5260'>({text(measure.get('instrument') or 'no instrument')})</font>",
            CELL,
        )
        scores = chart["scores"]
        listing = Paragraph(
            "Scores: "
            + (
                "; ".join(f"{s['administered_on']}: {fmt(s['score'])}" for s in scores)
                if scores
                else "none in the period"
            ),
            SMALL,
        )
        out.append(
            KeepTogether([caption, score_chart(chart, start, end, width), listing, Spacer(0, 6)])
        )
    return out


# ------------------------------------------------------------------------ signatures
def signatures_part(part: Mapping[str, Any], width: float) -> Flowables:
    out = heading("signatures")
    out.append(
        Paragraph(
            "Each signature as 21 CFR 11.50 asks it to show: the signer's printed name and "
            "credentials, the date and time it was executed, and its meaning; with the version "
            "of the plan it binds to (by content hash) and whether a later change superseded it.",
            SMALL,
        )
    )
    rows: list[list[Cell]] = []
    for s in part["signatures"]:
        status = words(s["status"])
        if s["superseded_by_version"]:
            status += f" by version {s['superseded_by_version']}"
        if s["revoked_version"]:
            status += f" at version {s['revoked_version']}"
        if s["after_period"]:
            status += " · signed after the period"
        rows.append(
            [
                text(
                    f"{s['signer_name']}, {s['signer_credentials']}"
                    if s["signer_credentials"]
                    else s["signer_name"]
                ),
                f"{words(s['role'])}, {words(s['meaning'])}",
                when(s["signed_at"]),
                f"version {s['signed_version']}<br/>"
                f"<font size='6'>{text(s['content_hash'])}</font>",
                text(status),
            ]
        )
    if rows:
        out.extend(
            table(
                ["Signed by", "Role and meaning", "Executed", "Covers", "Status"],
                rows,
                [0.22 * width, 0.17 * width, 0.17 * width, 0.26 * width, 0.18 * width],
            )
        )
    else:
        out.append(Paragraph("The plan carries no signature.", BODY))
    if "coverage" in part:  # format 2 on (projections/packet.py)
        out.extend(_coverage(part["coverage"], width))
    if part["requests"]:
        out.append(Paragraph("Co-signature requests", H2))
        out.extend(
            table(
                ["Requested of", "Role and meaning", "Requested", "Status"],
                [
                    [
                        text(r.get("signer_name")),
                        f"{words(r.get('role'))}, {words(r.get('meaning'))}",
                        text(
                            f"{r.get('requested_on') or r.get('effective_date') or ''} "
                            f"by {r.get('requested_by') or ''}"
                        ),
                        words(r.get("status")),
                    ]
                    for r in part["requests"]
                ],
                [0.25 * width, 0.25 * width, 0.3 * width, 0.2 * width],
            )
        )
    return out


def _coverage(rows: Sequence[Mapping[str, Any]], width: float) -> Flowables:
    """Which signatures cover each version of the plan's content (docs/audits.md, Signature
    coverage): a version no clinician signature covers is marked."""
    out: Flowables = [
        Paragraph("Signature coverage", H2),
        Paragraph(
            "A signature binds to the content it signed, so it covers the plan from the change "
            "it signed to the next change of the plan's content. A version of the content that "
            "no clinician signature covers was in effect unattested.",
            SMALL,
        ),
    ]
    none = "<font color='#a4161a'><b>not signed by the clinician</b></font>"
    body: list[list[Cell]] = []
    for row in rows:
        span = (
            f"versions {row['from_version']} to {row['to_version']}"
            if row["to_version"] and row["to_version"] != row["from_version"]
            else f"version {row['from_version']}" + ("" if row["to_version"] else " onwards")
        )
        changed = (
            f"{text(', '.join(row['changes']))}<br/>in effect {row['effective_date']}"
            if row["changes"]
            else "the plan as first signed"
        )
        body.append(
            [
                span,
                changed,
                text("; ".join(row["clinician"])) or none,
                text("; ".join(row["client"])) or "—",
                text("; ".join(row["cosignatures"])) or "—",
            ]
        )
    out.extend(
        table(
            ["Content", "Changed", "Clinician attested", "Client agreed", "Co-signed"],
            body,
            [0.14 * width, 0.26 * width, 0.22 * width, 0.2 * width, 0.18 * width],
            style=CELL_SMALL,
        )
    )
    return out


# ------------------------------------------------------------------ amendment requests
def _amendment_facts(a: Mapping[str, Any]) -> list[tuple[str, Cell]]:
    rows: list[tuple[str, Cell]] = [
        ("Status", words(a["status"]) + (" · <b>overdue</b>" if a["overdue"] else "")),
        ("Received", f"{a['received_on']} from {text(a['requested_by'])}"),
        ("Recorded by", text(a["recorded_by"])),
        ("Concerns", text(a["concerns"])),
    ]
    if a["items"]:
        labels = ", ".join(str(i["label"] or i["id"]) for i in a["items"])
        rows.append(("Items", text(labels)))
    rows += [
        ("Requested change", text(a["requested_change"])),
        ("Reason", text(a["reason"])),
        ("Due", f"{a['due_date']} (60 days: {a['original_due_date']})"),
    ]
    extension = a["extension"]
    if extension:
        rows.append(
            (
                "Extension",
                f"given {extension['given_on']} (version {extension['version']}), due "
                f"{extension['new_due_date']}: {text(extension['reason'])}",
            )
        )
    decision = a["decision"]
    if decision:
        decided = (
            f"{words(decision['status'])} on {decision['decided_on']} by "
            f"{text(decision['decided_by'])} (version {decision['version']})"
        )
        if decision["late"]:
            decided += " · <b>after the due date</b>"
        rows.append(("Decision", decided))
        if decision["carried_out_in_version"] is not None:
            rows.append(
                (
                    "Amendment",
                    f"carried out in version {decision['carried_out_in_version']}; notified: "
                    f"{text(decision['notified'])}",
                )
            )
        if decision["denial_basis"]:
            rows.append(("Basis for denial", text(words(decision["denial_basis"]))))
            rows.append(("Written denial", text(decision["denial_text"])))
    said = a["disagreement_statement"]
    if said:
        rows.append(
            (
                "Statement of disagreement",
                f"filed {said['filed_on']} (version {said['version']}): "
                f"“{text(said['statement'])}”",
            )
        )
    rebuttal = a["rebuttal"]
    if rebuttal:
        rows.append(
            (
                "Rebuttal",
                f"filed {rebuttal['filed_on']} (version {rebuttal['version']}): "
                f"{text(rebuttal['rebuttal'])}",
            )
        )
    return rows


def amendments_part(amendments: Sequence[Mapping[str, Any]], width: float) -> Flowables:
    out = heading("amendments")
    out.append(
        Paragraph(
            "Every request to amend the plan (45 CFR 164.526) on the chart when the packet was "
            "generated, whatever its date: a request, its denial, the client's statement of "
            "disagreement and the practice's rebuttal go with any disclosure of the record.",
            SMALL,
        )
    )
    if not amendments:
        out.append(Paragraph("No amendment has been requested.", BODY))
        return out
    for a in amendments:
        out.append(Paragraph(text(a["label"]), H2))
        out.extend(facts(_amendment_facts(a), [0.22 * width, 0.78 * width]))
    return out


# ------------------------------------------------------------------- dates of service
def _signed(sig: Mapping[str, Any]) -> str:
    if not sig.get("signed"):
        return "<font color='#a4161a'><b>no</b></font>"
    shown = f"yes, {sig.get('signed_on')}"
    if sig.get("recorded_after_service"):
        late = when(sig.get("recorded_at"))
        shown += f" <font color='#a4161a'>(recorded {late}, after the date)</font>"
    return shown


def _attested(line: Mapping[str, Any]) -> str:
    """Format 2: the version the clinician's signature covered that day, and the changes in
    effect that it did not cover."""
    if "unsigned_changes" not in line:
        return ""
    shown = ""
    if line.get("clinician_signed_version") is not None:
        shown += f"<br/>covers version {line['clinician_signed_version']}"
    changes = line["unsigned_changes"]
    if changes:
        listed = "; ".join(f"v{c['version']} {', '.join(c['items'])}" for c in changes)
        shown += (
            f"<br/><font color='#a4161a'><b>unsigned changes in effect:</b> {text(listed)}</font>"
        )
    return shown


def dates_part(lines: Sequence[Mapping[str, Any]], width: float) -> Flowables:
    out = heading("dates_of_service")
    if not lines:
        out.append(Paragraph("No dates of service were given with the request.", BODY))
        return out
    rows: list[list[Cell]] = []
    for line in lines:
        attested = _attested(line)
        verdict = (
            "<font color='#0b6b2e'><b>OK</b></font>"
            if line["ok"]
            else "<font color='#a4161a'><b>NOT OK</b></font>"
        )
        codes = ", ".join(f["code"] for f in line["findings"]) or "none"
        rows.append(
            [
                f"<b>{line['date']}</b><br/>{text(', '.join(line['cpt_codes']))}",
                f"v{line['plan_version']}"
                if line["plan_in_effect"]
                else "<font color='#a4161a'><b>none</b></font>",
                _signed(line["clinician_signature"]) + attested,
                _signed(line["client_signature"]),
                "—" if line["plan_age_days"] is None else f"{line['plan_age_days']} days",
                "—"
                if line["review_overdue"] is None
                else (
                    "<font color='#a4161a'><b>overdue</b></font>"
                    if line["review_overdue"]
                    else f"due {line['next_review_due']}"
                ),
                f"{verdict}<br/><font size='6'>{text(codes)}</font>",
            ]
        )
    out.extend(
        table(
            [
                "Date (CPT)",
                "Plan",
                "Clinician signed",
                "Client signed",
                "Plan age",
                "Review",
                "Verdict, findings",
            ],
            rows,
            [
                0.12 * width,
                0.07 * width,
                0.19 * width,
                0.19 * width,
                0.1 * width,
                0.13 * width,
                0.2 * width,
            ],
            style=CELL_SMALL,
        )
    )
    out.append(Spacer(0, 4))
    out.extend(Paragraph(text(line["summary"]), SMALL) for line in lines)
    return out


# ----------------------------------------------------------------------- findings
def _finding_cell(finding: Mapping[str, Any]) -> str:
    """The code and its message; from format 2, each run of days worded as on those days when
    the wording moved during the period (a finding's message names dates of its own)."""
    head = f"<b>{finding['code']}</b>"
    runs = finding["dates"]
    if LAYOUT_1.get() or not runs or "message" not in runs[0]:
        return f"{head}<br/>{text(finding['message'])}"
    title = FINDINGS[finding["code"]].title if finding["code"] in FINDINGS else ""
    head = f"<b>{text(title)}</b> ({finding['code']})" if title else head
    if len({r["message"] for r in runs}) == 1:
        return f"{head}<br/>{text(runs[-1]['message'])}"
    worded = "<br/>".join(
        f"{r['from'] if r['from'] == r['to'] else r['from'] + ' to ' + r['to']}: "
        f"{text(r['message'])}"
        for r in runs
    )
    return f"{head}<br/>{worded}"


def _runs(finding: Mapping[str, Any]) -> str:
    return ", ".join(
        r["from"] if r["from"] == r["to"] else f"{r['from']} to {r['to']}" for r in finding["dates"]
    )


def findings_part(found: Sequence[Mapping[str, Any]], width: float) -> Flowables:
    out = heading("findings")
    if not found:
        out.append(Paragraph("No finding held on any date in the period.", BODY))
        return out
    out.append(
        Paragraph(
            "Each finding that held on any date of the period, judged on each date as the plan "
            "was in effect that day, with the dates on which it held.",
            SMALL,
        )
    )
    colours = {"error": "#a4161a", "warning": "#7a4d00", "info": "#4a5260"}
    out.extend(
        table(
            ["Severity", "Finding", "Item", "Held on"],
            [
                [
                    f"<font color='{colours.get(f['severity'], '#1b1f24')}'>"
                    f"<b>{f['severity']}</b></font>",
                    _finding_cell(f),
                    text(f["label"]) or "the plan",
                    text(_runs(f)),
                ]
                for f in found
            ],
            [0.1 * width, 0.5 * width, 0.15 * width, 0.25 * width],
        )
    )
    return out


# ------------------------------------------------------------------------ events
def events_part(entries: Sequence[Mapping[str, Any]], width: float) -> Flowables:
    out = heading("events")
    out.append(
        Paragraph(
            "Every event recorded in the period or taking effect in it, in the order it was "
            "recorded, with its chain hash (compare with <i>plantrail verify</i>).",
            SMALL,
        )
    )
    rows: list[list[Cell]] = [
        [
            str(e["version"]),
            f"{when(e['recorded_at'])}<br/>{e['effective_date']}",
            f"<b>{text(e['type'])}</b><br/>{text(e['actor'])}, {words(e['entry_kind'])}",
            text(e["summary"]),
            Paragraph(text(e["chain_hash"] or "—"), HASH),
        ]
        for e in entries
    ]
    out.extend(
        table(
            ["v", "Recorded / effective", "Event, by", "What it recorded", "Chain hash"],
            rows,
            [0.05 * width, 0.16 * width, 0.2 * width, 0.41 * width, 0.18 * width],
            style=CELL_SMALL,
        )
    )
    return out
