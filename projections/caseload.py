"""Read models across plans: the caseload list, findings, copy-forward verdicts and objective
statements, in SQL tables rebuilt from the event log (issue #3, item 9).

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
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
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
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.engine import Connection

from plantrail.domain.events import PlanEvent
from plantrail.domain.plan import fold
from plantrail.domain.service import PlanService
from plantrail.projections.document import next_review_due
from plantrail.projections.findings import plan_findings as findings_of
from plantrail.projections.normalise import normalise_text
from plantrail.projections.profile import RuleProfile
from plantrail.projections.reviews import review_history
from plantrail.projections.store.engine import WRITE
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
    Column("copied_forward_reviews", Integer, nullable=False),
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
    Column("verdict", String(20), nullable=False, index=True),
    Column("similarity", Float, nullable=False),
    Column("streak", Integer, nullable=False),
    Column("summary_repeated", Boolean, nullable=False),
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

TABLES = (caseload, findings_table, review_verdicts, objective_statements)


@dataclass
class PlanRows:
    """Everything the read models hold for one plan at one version."""

    caseload: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)


def compute_rows(events: Sequence[PlanEvent], profile: RuleProfile, today: date) -> PlanRows | None:
    """The read-model rows of one plan from its whole history (pure: no database)."""
    state = fold(events)
    if state is None:
        return None
    reviews = review_history(events, late_entry_days=profile.late_entry_days)
    findings = findings_of(state, events, profile, today)
    verdicts = [
        {
            "review_id": review["id"],
            "label": review["label"] or "Review",
            "completed_on": date.fromisoformat(review["effective_date"]),
            "verdict": review["copy_forward"]["verdict"],
            "similarity": float(review["copy_forward"]["similarity"]),
            "streak": int(review["copy_forward"]["streak"]),
            "summary_repeated": bool(review["copy_forward"]["summary_repeated"]),
        }
        for review in reviews
    ]
    statements = []
    for objective in state.objectives.values():
        normalised = normalise_text(objective.statement)
        statements.append(
            {
                "objective_id": objective.id,
                "client_id": state.client.id,
                "label": objective.label,
                "statement": objective.statement,
                "normalised": normalised,
                "fingerprint": hashlib.sha256(normalised.encode()).hexdigest(),
            }
        )
    copied = [v for v in verdicts if v["verdict"] == "copied_forward"]
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
    )


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


def _replace(connection: Connection, plan_id: UUID, rows: PlanRows) -> None:
    for table in TABLES:
        connection.execute(delete(table).where(table.c.plan_id == plan_id))
    connection.execute(insert(caseload).values(plan_id=plan_id, **rows.caseload))
    for table, items in (
        (findings_table, rows.findings),
        (review_verdicts, rows.verdicts),
        (objective_statements, rows.statements),
    ):
        if items:
            connection.execute(insert(table), [{"plan_id": plan_id, **item} for item in items])


def catch_up(
    service: PlanService,
    recorder: SqlPlanRecorder,
    *,
    profile: RuleProfile | None = None,
    today: date | None = None,
    batch: int = 200,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Bring every stale plan's rows up to date; returns the number of plans recomputed."""
    profile = profile or RuleProfile(late_entry_days=service.late_entry_days)
    today = today or service.clock().date()
    done: set[UUID] = set()
    while True:
        with translated("read the caseload"), recorder.engine.connect() as conn:
            todo = [(p, v) for p, v in stale_plans(conn, today, batch + len(done)) if p not in done]
        if not todo:
            return len(done)
        todo = todo[:batch]
        computed = [
            (plan_id, compute_rows(service.events_of(plan_id, lte=version), profile, today))
            for plan_id, version in todo
        ]
        with (
            translated("update the caseload"),
            recorder.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            for plan_id, rows in computed:
                if rows is not None:
                    _replace(conn, plan_id, rows)
        done.update(plan_id for plan_id, _ in todo)
        if progress is not None:
            progress(len(todo))


def rebuild(
    service: PlanService,
    recorder: SqlPlanRecorder,
    *,
    profile: RuleProfile | None = None,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Empty every read-model table and recompute it from the event log."""
    with (
        translated("clear the read models"),
        recorder.engine.connect().execution_options(**WRITE) as conn,
        conn.begin(),
    ):
        for table in TABLES:
            conn.execute(delete(table))
    return catch_up(service, recorder, profile=profile, today=today, progress=progress)


def dump_tables(recorder: SqlPlanRecorder) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row in a stable order (used to compare rebuilt and incremental tables)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with translated("read the caseload"), recorder.engine.connect() as conn:
        for table in TABLES:
            keys = list(table.primary_key.columns)
            out[table.name] = [tuple(row) for row in conn.execute(select(table).order_by(*keys))]
    return out


@dataclass(frozen=True)
class Reach:
    """Which plans a caller may see: all of them, or those of some clinicians / a supervisor."""

    all_plans: bool = False
    clinician_ids: Collection[str] = ()
    supervisor_id: str | None = None

    def condition(self) -> Any:
        if self.all_plans:
            return None
        clauses: list[Any] = []
        if self.clinician_ids:
            clauses.append(caseload.c.clinician_id.in_(list(self.clinician_ids)))
        if self.supervisor_id:
            clauses.append(caseload.c.supervisor_id == self.supervisor_id)
        return or_(*clauses) if clauses else caseload.c.plan_id.is_(None)


def _visible(query: Any, reach: Reach) -> Any:
    condition = reach.condition()
    return query if condition is None else query.where(condition)


def _codes_by_plan(conn: Connection, plan_ids: list[Any]) -> dict[Any, set[str]]:
    found: dict[Any, set[str]] = {}
    if plan_ids:
        query = select(findings_table.c.plan_id, findings_table.c.code).where(
            findings_table.c.plan_id.in_(plan_ids)
        )
        for plan_id, code in conn.execute(query):
            found.setdefault(plan_id, set()).add(code.lower())
    return found


def query_caseload(
    recorder: SqlPlanRecorder,
    reach: Reach,
    *,
    clinician_id: str | None = None,
    status: str | None = None,
    flag: str | None = None,
) -> list[dict[str, Any]]:
    """The caseload list (``GET /plans``): one row per plan the caller may see. ``flag`` is a
    finding code in lower case (``review_overdue``) or ``copied_forward``."""
    query = _visible(select(caseload), reach).order_by(caseload.c.client_name, caseload.c.plan_id)
    if clinician_id:
        query = query.where(caseload.c.clinician_id == clinician_id)
    if status:
        query = query.where(caseload.c.status == status)
    with translated("read the caseload"), recorder.engine.connect() as conn:
        rows = conn.execute(query).all()
        codes = _codes_by_plan(conn, [row.plan_id for row in rows])
    out = []
    for row in rows:
        flags = codes.get(row.plan_id, set())
        if row.copied_forward_reviews:
            flags = flags | {"copied_forward"}
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
                "next_review_due": row.next_review_due.isoformat() if row.next_review_due else None,
                "review_overdue": "review_overdue" in flags,
                "reviews_completed": row.reviews_completed,
                "copied_forward_reviews": row.copied_forward_reviews,
                "findings_count": row.findings_count,
                "flags": sorted(flags),
            }
        )
    return out


def query_findings(recorder: SqlPlanRecorder, reach: Reach) -> list[dict[str, Any]]:
    """Audit findings across the caller's caseload (``GET /reports/findings``)."""
    query = _visible(
        select(findings_table, caseload.c.client_name, caseload.c.clinician_id).join(
            caseload, caseload.c.plan_id == findings_table.c.plan_id
        ),
        reach,
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


def query_copy_forward(recorder: SqlPlanRecorder, reach: Reach) -> dict[str, Any]:
    """Plans with copied-forward reviews (longest streaks first) and objective statements reused
    verbatim, after normalisation, across different clients (``GET /reports/copy-forward``)."""
    with translated("read the copy-forward report"), recorder.engine.connect() as conn:
        plans = conn.execute(
            _visible(select(caseload), reach)
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
                    }
                )
        visible = select(_visible(select(caseload.c.plan_id), reach).subquery().c.plan_id)
        reused = (
            conn.execute(
                select(objective_statements.c.fingerprint)
                .where(objective_statements.c.plan_id.in_(visible))
                .group_by(objective_statements.c.fingerprint)
                .having(func.count(func.distinct(objective_statements.c.client_id)) > 1)
            )
            .scalars()
            .all()
        )
        uses: dict[str, list[Any]] = {}
        if reused:
            query = (
                select(objective_statements, caseload.c.client_name, caseload.c.clinician_id)
                .join(caseload, caseload.c.plan_id == objective_statements.c.plan_id)
                .where(objective_statements.c.fingerprint.in_(list(reused)))
                .where(objective_statements.c.plan_id.in_(visible))
                .order_by(objective_statements.c.fingerprint, caseload.c.client_name)
            )
            for row in conn.execute(query):
                uses.setdefault(row.fingerprint, []).append(row)
    return {
        "plans": [
            {
                "plan_id": str(p.plan_id),
                "client_name": p.client_name,
                "clinician_id": p.clinician_id,
                "reviews_completed": p.reviews_completed,
                "copied_forward_reviews": p.copied_forward_reviews,
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
                "uses": [
                    {
                        "plan_id": str(r.plan_id),
                        "objective_id": r.objective_id,
                        "label": r.label,
                        "client_name": r.client_name,
                        "clinician_id": r.clinician_id,
                    }
                    for r in rows
                ],
            }
            for rows in uses.values()
        ],
    }
