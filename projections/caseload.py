"""Read models across plans: the caseload list, findings, copy-forward verdicts and objective
statements, in SQL tables rebuilt from the event log.

Tracking is per plan: each plan's rows record the plan version they reflect. ``catch_up`` finds
every plan whose latest event is newer than its rows (one indexed GROUP BY) and recomputes that
plan's rows from its events in one transaction. Recomputing a whole plan is idempotent, so no
event is ever skipped or counted twice, even when PostgreSQL commits notification ids out of
order. ``rebuild`` empties the tables and catches up from nothing; the rebuilt tables equal the
incrementally maintained ones because both run the same computation.

Findings depend on today's date (a review falls overdue, a plan ages, a measurement goes
missing once its grace period passes), so each plan's rows also record the day they were
computed, and rows computed on an earlier day count as stale: the caseload always shows the
same findings as the per-plan view for today. Run ``plantrail projections catch-up`` after
midnight to pay that cost before the first user does.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection

from plantrail.domain.events import PlanEvent
from plantrail.domain.persistence import decode_event
from plantrail.domain.plan import PlanState
from plantrail.domain.service import PlanService
from plantrail.projections.continuation import SharedStatement
from plantrail.projections.copy_forward import small_statement_edit
from plantrail.projections.document import due_row, next_review_due
from plantrail.projections.findings import plan_findings as findings_of
from plantrail.projections.findings import scan_plan
from plantrail.projections.near_copy import statement_edit
from plantrail.projections.normalise import normalise_text
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import JudgedReview
from plantrail.projections.store.bulk import insert_rows
from plantrail.projections.store.engine import WRITE, refresh_statistics
from plantrail.projections.store.failures import translated
from plantrail.projections.store.recorder import SqlPlanRecorder
from plantrail.projections.store.schema import events

metadata = MetaData()

caseload = Table(
    "plantrail_caseload",
    metadata,
    Column("plan_id", Uuid, primary_key=True),
    Column("version", Integer, nullable=False, comment="plan version these rows reflect"),
    Column("client_id", String(200), nullable=False),
    Column("client_name", String(200), nullable=False),
    Column("client_date_of_birth", Date, nullable=False),
    Column("clinician_id", String(200), nullable=False, index=True),
    Column("clinician_name", String(200), nullable=False),
    Column("supervisor_id", String(200), index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("effective_date", Date, nullable=False),
    Column("plan_end_date", Date, nullable=False),
    Column("next_review_due", Date),
    Column("reviews_completed", Integer, nullable=False),
    Column(
        "copied_forward_reviews",
        Integer,
        nullable=False,
        comment="reviews copied forward or nearly copied forward",
    ),
    Column("nearly_copied_reviews", Integer, nullable=False, comment="of which near copies"),
    Column("current_streak", Integer, nullable=False),
    Column("longest_streak", Integer, nullable=False),
    Column("findings_count", Integer, nullable=False),
    Column("computed_on", Date, nullable=False, comment="the 'today' of these rows' findings"),
)

findings_table = Table(
    "plantrail_plan_findings",
    metadata,
    Column("plan_id", Uuid, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("code", String(60), nullable=False, index=True),
    Column("severity", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("item_id", String(100)),
    Column("label", String(100)),
)

review_verdicts = Table(
    "plantrail_review_verdicts",
    metadata,
    Column("plan_id", Uuid, primary_key=True),
    Column("review_id", String(100), primary_key=True),
    Column("label", String(100), nullable=False),
    Column("completed_on", Date, nullable=False),
    Column("verdict", String(30), nullable=False, index=True),
    Column("similarity", Float, nullable=False),
    Column("streak", Integer, nullable=False),
    Column("summary_repeated", Boolean, nullable=False),
    Column("summary_similarity", Float, comment="detector 2; null without two summaries"),
    Column("summary_nearly_repeated", Boolean, nullable=False),
    Column("explanation", Text, comment="detector 2: the small edits or the genuine changes"),
)

objective_statements = Table(
    "plantrail_objective_statements",
    metadata,
    Column("plan_id", Uuid, primary_key=True),
    Column("objective_id", String(100), primary_key=True),
    Column("client_id", String(200), nullable=False),
    Column("label", String(100), nullable=False),
    Column("statement", Text, nullable=False),
    Column("normalised", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False, index=True),
)

plan_participants = Table(
    "plantrail_plan_participants",
    metadata,
    Column("plan_id", Uuid, primary_key=True),
    Column("client_id", String(200), primary_key=True),
)
"""The client ids a group, family or couples plan names among its participants: plans of one
group share objectives on purpose, so the templated-language report leaves such pairs out."""

TABLES = (caseload, findings_table, review_verdicts, objective_statements, plan_participants)

COPIED = frozenset({"copied_forward", "nearly_copied_forward"})
"""The verdicts of a review that carried the plan forward: identical, or with small edits only."""


@dataclass
class PlanRows:
    """Everything the read models hold for one plan at one version."""

    caseload: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)
    participants: list[dict[str, Any]] = field(default_factory=list)


def statement_fingerprint(statement: str) -> tuple[str, str]:
    """A statement's normalised text and its fingerprint, as ``plantrail_objective_statements``
    holds them: two statements with one fingerprint are the same words after normalisation."""
    normalised = normalise_text(statement)
    return normalised, hashlib.sha256(normalised.encode()).hexdigest()


def compute_rows(events: Sequence[PlanEvent], profile: RuleProfile, today: date) -> PlanRows | None:
    """The read-model rows of one plan from its whole history (pure: no database)."""
    # One fold yields the state, the review verdicts and the flagged revision-log entries; the
    # full review history (changes, measurement tables) is not needed for these rows.
    scan = scan_plan(events, profile)
    state = scan.state
    if state is None:
        return None
    findings = findings_of(state, events, profile, today, scan=scan)
    verdicts = [_verdict_row(state, judged) for judged in scan.reviews]
    statements = []
    for objective in state.objectives.values():
        normalised, fingerprint = statement_fingerprint(objective.statement)
        statements.append(
            {
                "objective_id": objective.id,
                "client_id": state.client.id,
                "label": objective.label,
                "statement": objective.statement,
                "normalised": normalised,
                "fingerprint": fingerprint,
            }
        )
    copied = [v for v in verdicts if v["verdict"] in COPIED]
    return PlanRows(
        caseload={
            "version": state.version,
            "client_id": state.client.id,
            "client_name": state.client.name,
            "client_date_of_birth": state.client.date_of_birth,
            "clinician_id": state.clinician.user_id,
            "clinician_name": state.clinician.name,
            "supervisor_id": state.supervisor.user_id if state.supervisor else None,
            "status": state.status,
            "effective_date": state.effective_date,
            "plan_end_date": state.plan_end_date,
            "next_review_due": (
                next_review_due(state, profile.review_interval_days)
                if state.status != "discharged"
                else None
            ),
            "reviews_completed": len(verdicts),
            "copied_forward_reviews": len(copied),
            "nearly_copied_reviews": sum(
                1 for v in copied if v["verdict"] == "nearly_copied_forward"
            ),
            "current_streak": verdicts[-1]["streak"] if verdicts else 0,
            "longest_streak": max((v["streak"] for v in verdicts), default=0),
            "findings_count": len(findings),
            "computed_on": today,
        },
        findings=[
            {
                "seq": seq,
                "code": f["code"],
                "severity": f["severity"],
                "message": f["message"],
                "item_id": f.get("item_id"),
                "label": f.get("label"),
            }
            for seq, f in enumerate(findings)
        ],
        verdicts=verdicts,
        statements=statements,
        participants=[
            {"client_id": client_id}
            for client_id in dict.fromkeys(
                p.client_id for p in state.participants if p.client_id is not None
            )
        ],
    )


def _verdict_row(state: PlanState, judged: JudgedReview) -> dict[str, Any]:
    review = state.reviews.get(judged.event.review_id)
    verdict = judged.verdict
    return {
        "review_id": judged.event.review_id,
        "label": (review.label if review else None) or "Review",
        "completed_on": judged.event.effective_date,
        "verdict": verdict["verdict"],
        "similarity": float(verdict["similarity"]),
        "streak": int(verdict["streak"]),
        "summary_repeated": bool(verdict["summary_repeated"]),
        "summary_similarity": verdict.get("summary_similarity"),
        "summary_nearly_repeated": bool(verdict.get("summary_nearly_repeated", False)),
        "explanation": verdict.get("explanation"),
    }


def stale_plans(
    connection: Connection, today: date, limit: int | None = None
) -> list[tuple[UUID, int]]:
    """Plans whose latest event is newer than their rows, whose rows were computed before
    ``today``, or that have no rows yet."""
    latest = (
        select(
            events.c.originator_id.label("plan_id"),
            func.max(events.c.originator_version).label("v"),
        )
        .group_by(events.c.originator_id)
        .subquery()
    )
    query = (
        select(latest.c.plan_id, latest.c.v)
        .outerjoin(caseload, caseload.c.plan_id == latest.c.plan_id)
        .where(
            or_(
                caseload.c.version.is_(None),
                caseload.c.version < latest.c.v,
                caseload.c.computed_on < today,
            )
        )
        .order_by(latest.c.plan_id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(UUID(str(row[0])), int(row[1])) for row in connection.execute(query)]


def _replace(connection: Connection, computed: Sequence[tuple[UUID, PlanRows | None]]) -> None:
    """Swap the rows of every plan in ``computed`` for its new rows, one statement per table
    for the whole batch. A plan without rows (no opening to fold from) is left as it was."""
    plan_ids = [plan_id for plan_id, plan_rows in computed if plan_rows is not None]
    for table in TABLES:
        connection.execute(delete(table).where(table.c.plan_id.in_(plan_ids)))
    rows: dict[Table, list[dict[str, Any]]] = {table: [] for table in TABLES}
    for plan_id, plan_rows in computed:
        if plan_rows is None:
            continue
        rows[caseload].append({"plan_id": plan_id, **plan_rows.caseload})
        for table, items in (
            (findings_table, plan_rows.findings),
            (review_verdicts, plan_rows.verdicts),
            (objective_statements, plan_rows.statements),
            (plan_participants, plan_rows.participants),
        ):
            rows[table].extend({"plan_id": plan_id, **item} for item in items)
    for table, items in rows.items():
        insert_rows(connection, table, items)


_PLAN_EVENTS = text(
    "SELECT originator_id, originator_version, topic, state FROM plantrail_events "
    "WHERE originator_id IN :plans ORDER BY originator_id, originator_version"
).bindparams(bindparam("plans", expanding=True, type_=Uuid))
"""Written as text so that the rows come back as the driver gives them: SQLAlchemy's per-row
conversion of the plan id was a tenth of the rebuild; each distinct id is converted once."""

Stored = tuple[int, str, bytes]
"""One stored event of a plan: version, topic, payload bytes."""


def _stored_of(
    recorder: SqlPlanRecorder, todo: Sequence[tuple[UUID, int]]
) -> list[tuple[UUID, list[Stored]]]:
    """The stored events of each plan in ``todo`` up to its version, in ``todo``'s order, read
    with one query for the batch rather than one per plan (the per-query cost was a third of
    the read)."""
    upto = dict(todo)
    found: dict[UUID, list[Stored]] = {plan_id: [] for plan_id in upto}
    ids: dict[Any, UUID] = {}
    with translated("read the plans"), recorder.engine.connect() as conn:
        for raw_id, version, topic, state in conn.execute(_PLAN_EVENTS, {"plans": list(upto)}):
            plan_id = ids.get(raw_id) or ids.setdefault(raw_id, UUID(str(raw_id)))
            if version <= upto[plan_id]:
                found[plan_id].append((version, topic, bytes(state)))
    return [(plan_id, found[plan_id]) for plan_id, _ in todo]


def _rows_of(
    plans: Sequence[tuple[UUID, Sequence[Stored]]], profile: RuleProfile, today: date
) -> list[tuple[UUID, PlanRows | None]]:
    """Decode and compute the rows of each plan: the rebuild's CPU work, the same in the
    helper process as here (a module function, so that it can be sent there)."""
    return [
        (
            plan_id,
            compute_rows(
                [decode_event(plan_id, v, topic, state) for v, topic, state in stored],
                profile,
                today,
            ),
        )
        for plan_id, stored in plans
    ]


def _helper() -> Executor:
    """One helper process: the row computation is pure CPU and a rebuild would otherwise use
    one core. Forked where the platform can, so that it starts at once and needs no importable
    main module; it is handed events and returns rows, and never touches the database
    connections it inherits."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method))


HELPER_MIN_PLANS = 1_000
"""Below this many stale plans a helper process costs more to start than it saves."""

HELPER_SHARE = 0.6
"""The most of each batch offered to the helper: this process also reads, hands over and
writes, so an even split left the helper idle a third of the time (measured, SQLite)."""

HELPER_PIECES = 6
"""The helper's share goes in pieces, so that this process can take back the pieces the helper
has not started when it falls behind (the machine is shared: it may get less than a core)."""


def _compute(
    plans: list[tuple[UUID, list[Stored]]],
    profile: RuleProfile,
    today: date,
    helper: Executor | None,
) -> list[tuple[UUID, PlanRows | None]]:
    if helper is None or len(plans) < 2:
        return _rows_of(plans, profile, today)
    split = len(plans) - max(1, int(len(plans) * HELPER_SHARE))
    size = -(-(len(plans) - split) // HELPER_PIECES)  # ceiling division
    pieces = [plans[start : start + size] for start in range(split, len(plans), size)]
    offered = [helper.submit(_rows_of, piece, profile, today) for piece in pieces]
    computed = _rows_of(plans[:split], profile, today)
    taken_back: dict[int, list[tuple[UUID, PlanRows | None]]] = {}
    # The helper works from the first piece; take back from the last until one has started.
    for index in reversed(range(len(pieces))):
        if not offered[index].cancel():
            break
        taken_back[index] = _rows_of(pieces[index], profile, today)
    for index, future in enumerate(offered):
        computed += taken_back[index] if index in taken_back else future.result()
    return computed


def _elsewhere(plan_id: UUID | None, client_id: str) -> Any:
    """The other clients' plans: not this client's, nor (for a group, family or couples plan)
    one of this plan's participants, whose plans share objectives on purpose."""
    condition = objective_statements.c.client_id != client_id
    if plan_id is not None:
        participants = select(plan_participants.c.client_id).where(
            plan_participants.c.plan_id == plan_id
        )
        condition = condition & objective_statements.c.client_id.not_in(participants)
    return condition


def query_shared_statements(
    recorder: SqlPlanRecorder, plan_id: UUID, client_id: str
) -> list[SharedStatement]:
    """This plan's objective statements whose fingerprint appears in a plan of another client,
    each with how many other clients (never who: the caller may not reach their plans). The
    read model may lag the latest writes (``catch_up`` first)."""
    mine = objective_statements.alias("mine")
    others = (
        select(func.count(func.distinct(objective_statements.c.client_id)))
        .where(objective_statements.c.fingerprint == mine.c.fingerprint)
        .where(_elsewhere(plan_id, client_id))
        .scalar_subquery()
    )
    query = (
        select(mine.c.objective_id, mine.c.label, mine.c.statement, others.label("others"))
        .where(mine.c.plan_id == plan_id)
        .order_by(mine.c.label, mine.c.objective_id)
    )
    with translated("read the objective statements"), recorder.engine.connect() as conn:
        return [
            SharedStatement(row.objective_id, row.label, row.statement, int(row.others))
            for row in conn.execute(query)
            if row.others
        ]


def query_statement_elsewhere(recorder: SqlPlanRecorder, statement: str, client_id: str) -> int:
    """How many other clients' plans use ``statement`` verbatim after normalisation (the
    fingerprint of ``statement_fingerprint``). The read model may lag the latest writes."""
    _, fingerprint = statement_fingerprint(statement)
    query = (
        select(func.count(func.distinct(objective_statements.c.client_id)))
        .where(objective_statements.c.fingerprint == fingerprint)
        .where(_elsewhere(None, client_id))
    )
    with translated("read the objective statements"), recorder.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def client_identities(recorder: SqlPlanRecorder, client_id: str) -> set[tuple[str, date]]:
    """The (name, date of birth) pairs the caseload's plans give the client with this MRN: one
    pair when the caseload is consistent, none for a new client."""
    query = (
        select(caseload.c.client_name, caseload.c.client_date_of_birth)
        .where(caseload.c.client_id == client_id)
        .distinct()
    )
    with translated("read the caseload"), recorder.engine.connect() as conn:
        return {(name, born) for name, born in conn.execute(query)}


def catch_up(
    service: PlanService,
    recorder: SqlPlanRecorder,
    *,
    profile: RuleProfile | None = None,
    today: date | None = None,
    batch: int = 200,
    progress: Callable[[int], None] | None = None,
    helper: bool = False,
    skip: frozenset[UUID] = frozenset(),
) -> int:
    """Bring every stale plan's rows up to date; returns the number of plans recomputed.
    ``helper`` computes part of each batch in a second process when there are many plans;
    the plans in ``skip`` are left as they are (a query that excludes them need not wait)."""
    profile = profile or RuleProfile(late_entry_days=service.late_entry_days)
    today = today or service.clock().date()
    done: set[UUID] = set()
    pool: Executor | None = None
    try:
        while True:
            # One look for stale plans per pass, not per batch: the look groups the whole
            # event log, so repeating it per batch made a rebuild grow with the square of the
            # caseload.
            with translated("read the caseload"), recorder.engine.connect() as conn:
                todo = [
                    (p, v) for p, v in stale_plans(conn, today) if p not in done and p not in skip
                ]
            if not todo:
                return len(done)
            if helper and pool is None and len(todo) >= HELPER_MIN_PLANS:
                pool = _helper()
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                _recompute(recorder, chunk, profile, today, pool)
                done.update(plan_id for plan_id, _ in chunk)
                if progress is not None:
                    progress(len(chunk))
    finally:
        if pool is not None:
            pool.shutdown()


def _recompute(
    recorder: SqlPlanRecorder,
    todo: Sequence[tuple[UUID, int]],
    profile: RuleProfile,
    today: date,
    helper: Executor | None,
) -> None:
    """Recompute the rows of the plans in ``todo`` (each at its version) in one transaction."""
    computed = _compute(_stored_of(recorder, todo), profile, today, helper)
    with (
        translated("update the caseload"),
        recorder.engine.connect().execution_options(**WRITE) as conn,
        conn.begin(),
    ):
        _replace(conn, computed)


def rebuild(
    service: PlanService,
    recorder: SqlPlanRecorder,
    *,
    profile: RuleProfile | None = None,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
    helper: bool | None = None,
) -> int:
    """Empty every read-model table and recompute it from the event log. ``helper`` (default:
    when the machine has two cores or more) computes part of the rows in a second process."""
    with (
        translated("clear the read models"),
        recorder.engine.connect().execution_options(**WRITE) as conn,
        conn.begin(),
    ):
        if conn.dialect.name == "postgresql":
            # Not DELETE: its dead rows stay in the primary keys until a vacuum, and every
            # batch's delete of its plans' rows then visits the dead rows of those plans (at
            # 100,000 plans the deletes took 150 of a rebuild's 700 profiled seconds;
            # docs/performance.md, figure 4). TRUNCATE empties the files at once, in this
            # transaction. SQLite's DELETE without a WHERE clause already truncates.
            names = ", ".join(f'"{table.name}"' for table in TABLES)
            conn.exec_driver_sql(f"TRUNCATE {names}")
        else:
            for table in TABLES:
                conn.execute(delete(table))
    with translated("count the event log"):
        refresh_statistics(recorder.engine, events.name)
    if helper is None:
        helper = (os.cpu_count() or 1) >= 2
    return catch_up(
        service, recorder, profile=profile, today=today, progress=progress, helper=helper
    )


def dump_tables(recorder: SqlPlanRecorder) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row in a stable order (used to compare rebuilt and incremental tables)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with translated("read the caseload"), recorder.engine.connect() as conn:
        for table in TABLES:
            keys = list(table.primary_key.columns)
            out[table.name] = [tuple(row) for row in conn.execute(select(table).order_by(*keys))]
    return out


class Reach(Protocol):
    """Which plans a caller may see (``plantrail.projections.access.policy.Reach``, the one
    definition of the rule), as it gives itself in SQL."""

    def clause(self, clinician_id: Any, supervisor_id: Any, plan_id: Any) -> Any: ...


def _visible(query: Any, reach: Reach, clinician_id: str | None = None) -> Any:
    """``query`` limited to the plans within ``reach`` (and of one clinician, when given)."""
    condition = reach.clause(caseload.c.clinician_id, caseload.c.supervisor_id, caseload.c.plan_id)
    if condition is not None:
        query = query.where(condition)
    if clinician_id:
        query = query.where(caseload.c.clinician_id == clinician_id)
    return query


def _codes_by_plan(conn: Connection, plan_ids: list[Any]) -> dict[Any, set[str]]:
    found: dict[Any, set[str]] = {}
    if plan_ids:
        query = select(findings_table.c.plan_id, findings_table.c.code).where(
            findings_table.c.plan_id.in_(plan_ids)
        )
        for plan_id, code in conn.execute(query):
            found.setdefault(plan_id, set()).add(code.lower())
    return found


def _next_due(review: date | None, end: date) -> dict[str, Any] | None:
    """The row's next due item, as ``document.next_due`` words it (none once discharged)."""
    if review is None:
        return None
    return due_row("renewal", end) if end < review else due_row("review", review)


def query_caseload(
    recorder: SqlPlanRecorder,
    reach: Reach,
    *,
    clinician_id: str | None = None,
    status: str | None = None,
    flag: str | None = None,
) -> list[dict[str, Any]]:
    """The caseload list (``GET /plans``): one row per plan the caller may see. ``flag`` is a
    finding code in lower case (``review_overdue``), ``copied_forward`` (some review copied
    forward, near copies included) or ``nearly_copied_forward`` (some review a near copy)."""
    query = _visible(select(caseload), reach, clinician_id).order_by(
        caseload.c.client_name, caseload.c.plan_id
    )
    if status:
        query = query.where(caseload.c.status == status)
    with translated("read the caseload"), recorder.engine.connect() as conn:
        rows = conn.execute(query).all()
        codes = _codes_by_plan(conn, [row.plan_id for row in rows])
    out = []
    for row in rows:
        # The flags follow the findings exactly: "copied_forward" is the REVIEW_COPIED_FORWARD
        # finding under its older filter name, so it clears when an updating review clears it.
        flags = codes.get(row.plan_id, set())
        if "review_copied_forward" in flags:
            flags = flags | {"copied_forward"}
        if row.nearly_copied_reviews:
            flags = flags | {"nearly_copied_forward"}
        if flag is not None and flag.lower() not in flags:
            continue
        out.append(
            {
                "plan_id": str(row.plan_id),
                "version": row.version,
                "client": {
                    "id": row.client_id,
                    "name": row.client_name,
                    "date_of_birth": row.client_date_of_birth.isoformat(),
                },
                "clinician": {"user_id": row.clinician_id, "name": row.clinician_name},
                "supervisor_id": row.supervisor_id,
                "status": row.status,
                "effective_date": row.effective_date.isoformat(),
                "plan_end_date": row.plan_end_date.isoformat(),
                "next_review_due": row.next_review_due.isoformat() if row.next_review_due else None,
                "next_due": _next_due(row.next_review_due, row.plan_end_date),
                "review_overdue": "review_overdue" in flags,
                "reviews_completed": row.reviews_completed,
                "copied_forward_reviews": row.copied_forward_reviews,
                "nearly_copied_reviews": row.nearly_copied_reviews,
                "findings_count": row.findings_count,
                "flags": sorted(flags),
            }
        )
    return out


def query_findings(
    recorder: SqlPlanRecorder, reach: Reach, *, clinician_id: str | None = None
) -> list[dict[str, Any]]:
    """Audit findings across the caller's caseload (``GET /reports/findings``)."""
    query = _visible(
        select(findings_table, caseload.c.client_name, caseload.c.clinician_id).join(
            caseload, caseload.c.plan_id == findings_table.c.plan_id
        ),
        reach,
        clinician_id,
    ).order_by(caseload.c.client_name, findings_table.c.plan_id, findings_table.c.seq)
    with translated("read the findings"), recorder.engine.connect() as conn:
        return [
            {
                "plan_id": str(row.plan_id),
                "client_name": row.client_name,
                "clinician_id": row.clinician_id,
                "code": row.code,
                "severity": row.severity,
                "message": row.message,
                "item_id": row.item_id,
                "label": row.label,
            }
            for row in conn.execute(query)
        ]


def _reused_outside_a_group(rows: Sequence[Any], members: dict[Any, set[str]]) -> bool:
    """Whether two uses of one statement belong to different clients who are not of one group
    (neither plan names the other's client among its participants)."""
    for index, one in enumerate(rows):
        for other in rows[index + 1 :]:
            if one.client_id == other.client_id:
                continue
            if other.client_id in members.get(one.plan_id, ()):
                continue
            if one.client_id in members.get(other.plan_id, ()):
                continue
            return True
    return False


NEAR_BLOCK_LIMIT = 400
"""The most distinct statements compared pairwise within one block (same first or last three
words); a larger block (a practice-wide template opening) is matched exactly only, so that the
report's cost stays bounded."""


def near_statement_groups(
    texts: dict[str, tuple[str, set[str]]], profile: RuleProfile
) -> dict[str, str]:
    """Statements (``fingerprint → (normalised text, client ids)``) that are near copies of a
    statement of another client: a statement edit the copy-forward detector calls small (a word
    or two changed, no number, negation, direction or frequency moved). Returns each such
    fingerprint with its group's smallest fingerprint. Candidates share their first or last
    three words (an edit of a word or two leaves one end intact), so the comparison is not
    quadratic in the caseload."""
    blocks: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for fingerprint, (normalised, _) in texts.items():
        words = tuple(normalised.split())
        blocks.setdefault(("head", words[:3]), []).append(fingerprint)
        blocks.setdefault(("tail", words[-3:]), []).append(fingerprint)
    parent = {fingerprint: fingerprint for fingerprint in texts}

    def root(fingerprint: str) -> str:
        while parent[fingerprint] != fingerprint:
            parent[fingerprint] = parent[parent[fingerprint]]
            fingerprint = parent[fingerprint]
        return fingerprint

    for members in blocks.values():
        if len(members) < 2 or len(members) > NEAR_BLOCK_LIMIT:
            continue
        members = sorted(members)
        for index, one in enumerate(members):
            text_one, clients_one = texts[one]
            for other in members[index + 1 :]:
                text_other, clients_other = texts[other]
                if clients_one == clients_other and len(clients_one) == 1:
                    continue  # one client's own statements are not templated language
                if root(one) == root(other):
                    continue
                if small_statement_edit(statement_edit(text_one, text_other), profile):
                    first, second = sorted((root(one), root(other)))
                    parent[second] = first
    grouped: dict[str, list[str]] = {}
    for fingerprint in texts:
        grouped.setdefault(root(fingerprint), []).append(fingerprint)
    out: dict[str, str] = {}
    for members in grouped.values():
        if len(members) < 2:
            continue
        clients = set().union(*(texts[m][1] for m in members))
        if len(clients) > 1:
            first = min(members)
            out.update(dict.fromkeys(members, first))
    return out


def query_copy_forward(
    recorder: SqlPlanRecorder,
    reach: Reach,
    *,
    clinician_id: str | None = None,
    profile: RuleProfile | None = None,
) -> dict[str, Any]:
    """Plans with copied-forward reviews (longest streaks first) and objective statements reused
    across different clients (``GET /reports/copy-forward``): verbatim after normalisation, and
    with detector 2 also with a word or two changed (``near``; each use names its wording)."""
    profile = profile or RuleProfile()
    with translated("read the copy-forward report"), recorder.engine.connect() as conn:
        plans = conn.execute(
            _visible(select(caseload), reach, clinician_id)
            .where(caseload.c.copied_forward_reviews > 0)
            .order_by(caseload.c.longest_streak.desc(), caseload.c.client_name)
        ).all()
        verdicts: dict[Any, list[dict[str, Any]]] = {}
        if plans:
            query = (
                select(review_verdicts)
                .where(review_verdicts.c.plan_id.in_([p.plan_id for p in plans]))
                .order_by(review_verdicts.c.plan_id, review_verdicts.c.completed_on)
            )
            for row in conn.execute(query):
                verdicts.setdefault(row.plan_id, []).append(
                    {
                        "review_id": row.review_id,
                        "label": row.label,
                        "completed_on": row.completed_on.isoformat(),
                        "verdict": row.verdict,
                        "similarity": row.similarity,
                        "streak": row.streak,
                        "summary_repeated": row.summary_repeated,
                        "summary_similarity": row.summary_similarity,
                        "summary_nearly_repeated": row.summary_nearly_repeated,
                        "explanation": row.explanation,
                    }
                )
        in_reach = _visible(select(caseload.c.plan_id), reach, clinician_id).subquery()
        visible = select(in_reach.c.plan_id)
        groups: dict[str, str] = {
            fingerprint: fingerprint
            for fingerprint in conn.execute(
                select(objective_statements.c.fingerprint)
                .where(objective_statements.c.plan_id.in_(visible))
                .group_by(objective_statements.c.fingerprint)
                .having(func.count(func.distinct(objective_statements.c.client_id)) > 1)
            ).scalars()
        }
        if profile.copy_forward_detector >= 2:
            texts: dict[str, tuple[str, set[str]]] = {}
            for fingerprint, normalised, client_id in conn.execute(
                select(
                    objective_statements.c.fingerprint,
                    objective_statements.c.normalised,
                    objective_statements.c.client_id,
                ).where(objective_statements.c.plan_id.in_(visible))
            ):
                texts.setdefault(fingerprint, (normalised, set()))[1].add(client_id)
            groups.update(near_statement_groups(texts, profile))
        uses: dict[str, list[Any]] = {}
        if groups:
            query = (
                select(objective_statements, caseload.c.client_name, caseload.c.clinician_id)
                .join(caseload, caseload.c.plan_id == objective_statements.c.plan_id)
                .where(objective_statements.c.fingerprint.in_(list(groups)))
                .where(objective_statements.c.plan_id.in_(visible))
                .order_by(objective_statements.c.fingerprint, caseload.c.client_name)
            )
            for row in conn.execute(query):
                uses.setdefault(groups[row.fingerprint], []).append(row)
            uses = dict(sorted(uses.items()))
            members: dict[Any, set[str]] = {}
            plan_ids = list({r.plan_id for rows in uses.values() for r in rows})
            for member in conn.execute(
                select(plan_participants).where(plan_participants.c.plan_id.in_(plan_ids))
            ):
                members.setdefault(member.plan_id, set()).add(member.client_id)
            uses = {
                group: rows
                for group, rows in uses.items()
                if _reused_outside_a_group(rows, members)
            }
    return {
        "plans": [
            {
                "plan_id": str(p.plan_id),
                "client_name": p.client_name,
                "clinician_id": p.clinician_id,
                "reviews_completed": p.reviews_completed,
                "copied_forward_reviews": p.copied_forward_reviews,
                "nearly_copied_reviews": p.nearly_copied_reviews,
                "current_streak": p.current_streak,
                "longest_streak": p.longest_streak,
                "reviews": verdicts.get(p.plan_id, []),
            }
            for p in plans
        ],
        "reused_objectives": [
            {
                "statement": rows[0].statement,
                "normalised": rows[0].normalised,
                "clients": len({r.client_id for r in rows}),
                "near": len({r.fingerprint for r in rows}) > 1,
                "uses": [
                    {
                        "plan_id": str(r.plan_id),
                        "objective_id": r.objective_id,
                        "label": r.label,
                        "client_name": r.client_name,
                        "clinician_id": r.clinician_id,
                        "statement": r.statement,
                    }
                    for r in rows
                ],
            }
            for rows in uses.values()
        ],
    }
