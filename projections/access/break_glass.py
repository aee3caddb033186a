"""Break-glass reads and their review by an admin.

A clinician or supervisor may read a plan outside their reach in an emergency by giving a
reason (``X-Break-Glass-Reason``, or the pages' emergency-access form). The read is one
access-log row like any other, with the reason in its ``break_glass_reason`` column, inside the
row's chain hash (``access_log``). Nobody is notified silently: each such read is the finding
``BREAK_GLASS_UNREVIEWED`` on the plan, and is listed in ``GET /reports/break-glass``, until an
admin records a review of it here. Reviews are append-only (one per read, never changed), so a
review cannot be taken back to hide what it said, and a read without one stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    insert,
    select,
)

from plantrail.domain.errors import InvalidInput, NotFound, RuleViolation
from plantrail.domain.validation import check_text
from plantrail.projections.access.access_log import access_log, create_access_log_tables
from plantrail.projections.store.append_only import guard_append_only
from plantrail.projections.store.engine import WRITE
from plantrail.projections.store.failures import translated
from plantrail.projections.store.recorder import from_micros, to_micros

FINDING_CODE = "BREAK_GLASS_UNREVIEWED"
REVIEW_NOTE_MAX = 2000

break_glass_metadata = MetaData()

break_glass_reviews = Table(
    "plantrail_break_glass_reviews",
    break_glass_metadata,
    Column("access_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("reviewed_by", String(64), nullable=False),
    Column("reviewed_at_us", BigInteger, nullable=False),
    Column("note", String(REVIEW_NOTE_MAX), nullable=False),
    comment="An admin's review of one break-glass read (append-only)",
)

guard_append_only(break_glass_reviews)


def _instant(micros: int | None) -> str | None:
    if micros is None:
        return None
    return from_micros(int(micros)).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class BreakGlassRead:
    """One emergency read and its review, if any."""

    seq: int
    recorded_at_us: int
    user_id: str | None
    role: str | None
    plan_id: str | None
    action: str
    route: str
    status: int
    reason: str
    reviewed_by: str | None
    reviewed_at_us: int | None
    review_note: str | None

    @property
    def reviewed(self) -> bool:
        return self.reviewed_by is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "recorded_at": _instant(self.recorded_at_us),
            "user_id": self.user_id,
            "role": self.role,
            "plan_id": self.plan_id,
            "action": self.action,
            "route": self.route,
            "status": self.status,
            "reason": self.reason,
            "reviewed": self.reviewed,
            "review": None
            if not self.reviewed
            else {
                "reviewed_by": self.reviewed_by,
                "reviewed_at": _instant(self.reviewed_at_us),
                "note": self.review_note,
            },
        }

    def finding(self) -> dict[str, Any]:
        """The plan's finding while this read is unreviewed."""
        when = _instant(self.recorded_at_us)
        return {
            "code": FINDING_CODE,
            "severity": "warning",
            "message": f"emergency (break-glass) read by {self.user_id} ({self.role}) at {when} "
            f"is not yet reviewed by an admin; reason given: {self.reason}",
            "item_id": None,
        }


class BreakGlass:
    """Break-glass reads (from the access log) and their reviews, on ``engine``."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def create_tables(self) -> None:
        create_access_log_tables(self.engine)
        with translated("create the break-glass reviews"):
            break_glass_metadata.create_all(self.engine)

    def reads(
        self,
        *,
        plan_id: str | None = None,
        unreviewed_only: bool = False,
        seq: int | None = None,
    ) -> list[BreakGlassRead]:
        """Every break-glass read (of one plan), oldest first, each with its review."""
        joined = access_log.outerjoin(
            break_glass_reviews, break_glass_reviews.c.access_seq == access_log.c.seq
        )
        query = (
            select(
                access_log.c.seq,
                access_log.c.recorded_at_us,
                access_log.c.user_id,
                access_log.c.role,
                access_log.c.plan_id,
                access_log.c.action,
                access_log.c.route,
                access_log.c.status,
                access_log.c.break_glass_reason,
                break_glass_reviews.c.reviewed_by,
                break_glass_reviews.c.reviewed_at_us,
                break_glass_reviews.c.note,
            )
            .select_from(joined)
            .where(access_log.c.break_glass_reason.is_not(None))
            .order_by(access_log.c.seq)
        )
        if plan_id is not None:
            query = query.where(access_log.c.plan_id == plan_id)
        if seq is not None:
            query = query.where(access_log.c.seq == seq)
        if unreviewed_only:
            query = query.where(break_glass_reviews.c.access_seq.is_(None))
        with translated("read the break-glass reads"), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            BreakGlassRead(
                seq=int(r.seq),
                recorded_at_us=int(r.recorded_at_us),
                user_id=r.user_id,
                role=r.role,
                plan_id=r.plan_id,
                action=r.action,
                route=r.route,
                status=int(r.status),
                reason=r.break_glass_reason,
                reviewed_by=r.reviewed_by,
                reviewed_at_us=None if r.reviewed_at_us is None else int(r.reviewed_at_us),
                review_note=r.note,
            )
            for r in rows
        ]

    def findings(self, plan_id: str) -> list[dict[str, Any]]:
        """The plan's ``BREAK_GLASS_UNREVIEWED`` findings: one per read without a review."""
        return [read.finding() for read in self.reads(plan_id=plan_id, unreviewed_only=True)]

    def review(self, seq: int, reviewed_by: str, note: str) -> BreakGlassRead:
        """Record ``reviewed_by``'s review of the break-glass read numbered ``seq`` (once)."""
        try:
            note = check_text(note)
        except ValueError as error:
            raise InvalidInput.on("note", str(error)) from None
        if not note:
            raise InvalidInput.on("note", "must say what the review found")
        if len(note) > REVIEW_NOTE_MAX:
            raise InvalidInput.on("note", f"must be at most {REVIEW_NOTE_MAX} characters")
        found = next(iter(self.reads(seq=seq)), None)
        if found is None:
            raise NotFound(f"no break-glass read numbered {seq}")
        if found.reviewed:
            raise RuleViolation.on("seq", f"break-glass read {seq} was already reviewed")
        with (
            translated("record the break-glass review"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(
                insert(break_glass_reviews).values(
                    access_seq=seq,
                    reviewed_by=reviewed_by,
                    reviewed_at_us=to_micros(self.clock()),
                    note=note,
                )
            )
        return self.reads(seq=seq)[0]
