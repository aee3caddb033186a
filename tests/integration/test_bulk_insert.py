"""``insert_rows`` (COPY on PostgreSQL, the driver's executemany on SQLite) stores exactly
what SQLAlchemy Core's insert stores, for every column type of the read models: the rebuild
writes through it, and reports read those rows back through Core."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError
from sqlalchemy import insert, select, text

from plantrail.projections import caseload
from plantrail.projections.store.bulk import insert_rows
from plantrail.projections.store.engine import create_store_engine, refresh_statistics
from plantrail.projections.store.failures import translated


def _rows(plan_ids: list[UUID]) -> dict[str, list[dict[str, Any]]]:
    caseload_rows = [
        {
            "plan_id": plan_id,
            "version": 40 + n,
            "client_id": f"MRN-{n:05d}",
            "client_name": 'Zoë O\'Brien, "Jo"\tTab\\slash',  # COPY's escapes
            "client_date_of_birth": date(1980, 2, 29),
            "clinician_id": "u-dana",
            "clinician_name": "Dana Reyes",
            "supervisor_id": None if n % 2 else "u-sam",
            "status": "active",
            "effective_date": date(2026, 1, 5),
            "plan_end_date": date(2027, 1, 4),
            "next_review_due": None if n % 2 else date(2026, 4, 5),
            "reviews_completed": n,
            "copied_forward_reviews": 0,
            "nearly_copied_reviews": 0,
            "current_streak": 0,
            "longest_streak": 2,
            "findings_count": 1,
            "computed_on": date(2026, 12, 1),
        }
        for n, plan_id in enumerate(plan_ids)
    ]
    verdicts = [
        {
            "plan_id": plan_id,
            "review_id": f"r{n}",
            "label": "Review 1",
            "completed_on": date(2026, 3, 1),
            "verdict": "nearly_copied_forward" if n % 2 else "copied_forward",
            "similarity": 0.1 + n / 3,
            "streak": n,
            "summary_repeated": bool(n % 2),
            "summary_similarity": None if n % 2 else 0.8125,
            "summary_nearly_repeated": not n % 2,
            "explanation": None
            if n % 2
            else 'Only small edits: Objective 1.2: one word added: *daily*; "quoted"\tTab',
        }
        for n, plan_id in enumerate(plan_ids)
    ]
    findings = [
        {
            "plan_id": plan_id,
            "seq": 1,
            "code": "review_overdue",
            "severity": "warning",
            "message": "Review due 2026-04-05\nis late",
            "item_id": None,
            "label": None,
        }
        for plan_id in plan_ids
    ]
    statements = [
        {
            "plan_id": plan_id,
            "objective_id": f"obj-{n}",
            "client_id": f"MRN-{n:05d}",
            "label": "Objective 1.1",
            "statement": "Client will use two coping skills\\when anxious, 4 of 7 days",
            "normalised": "client will use two coping skills when anxious 4 of 7 days",
            "fingerprint": f"{n:064x}",
        }
        for n, plan_id in enumerate(plan_ids)
    ]
    participants = [
        {"plan_id": plan_id, "client_id": f'MRN-{n + 100:05d} "partner"'}
        for n, plan_id in enumerate(plan_ids)
    ]
    return {
        caseload.plan_participants.name: participants,
        caseload.caseload.name: caseload_rows,
        caseload.objective_statements.name: statements,
        caseload.review_verdicts.name: verdicts,
        caseload.findings_table.name: findings,
    }


def test_bulk_rows_equal_core_rows(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        caseload.metadata.create_all(engine)
        by_core, by_bulk = [uuid4(), uuid4(), uuid4()], [uuid4(), uuid4(), uuid4()]
        with engine.begin() as conn:
            for table in caseload.TABLES:
                conn.execute(insert(table), _rows(by_core)[table.name])
                insert_rows(conn, table, _rows(by_bulk)[table.name])
        order = {str(p).replace("-", ""): n for n, p in enumerate(by_core + by_bulk)}

        def position(value: Any) -> int:
            return order[str(value).replace("-", "")]

        with engine.connect() as conn:
            for table in caseload.TABLES:
                # Raw values as stored (no type processing), plan id replaced by its position.
                stored = conn.execute(text(f"SELECT * FROM {table.name}")).all()

                core = sorted((position(r[0]) % 3, *r[1:]) for r in stored if position(r[0]) < 3)
                bulk = sorted((position(r[0]) % 3, *r[1:]) for r in stored if position(r[0]) >= 3)
                assert len(core) == 3, table.name
                assert bulk == core, table.name
                # The plan ids themselves are stored in one form (SQLite: 32 hex digits).
                assert len({(type(r[0]), len(str(r[0]))) for r in stored}) == 1, table.name
                # And read back through Core's types, the way every report reads them.
                typed = conn.execute(select(table)).all()
                assert len(typed) == len(stored)
    finally:
        engine.dispose()


def test_an_empty_batch_stores_nothing(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        caseload.metadata.create_all(engine)
        with engine.begin() as conn:
            insert_rows(conn, caseload.caseload, [])
        with engine.connect() as conn:
            assert conn.execute(select(caseload.caseload)).all() == []
    finally:
        engine.dispose()


def test_a_refused_row_stores_nothing_of_the_batch(store_url: str) -> None:
    """A bad row (here a duplicate key) fails the whole transaction, as Core's insert does."""
    engine = create_store_engine(store_url)
    try:
        caseload.metadata.create_all(engine)
        plan_id = uuid4()
        rows = _rows([plan_id])[caseload.caseload.name]
        with (
            pytest.raises(IntegrityError),
            translated("update the caseload"),  # as the rebuild calls it
            engine.begin() as conn,
        ):
            insert_rows(conn, caseload.caseload, rows + rows)
        with engine.connect() as conn:
            assert conn.execute(select(caseload.caseload)).all() == []
    finally:
        engine.dispose()


def test_statistics_are_refreshed_on_postgresql_only(store_url: str) -> None:
    """PostgreSQL's planner gets a row count for a freshly filled table (the rebuild's reads
    depend on it); SQLite is left alone, its planner uses the indexes without statistics."""
    engine = create_store_engine(store_url)
    try:
        caseload.metadata.create_all(engine)
        plan_ids = [uuid4() for _ in range(5)]
        with engine.begin() as conn:
            insert_rows(conn, caseload.caseload, _rows(plan_ids)[caseload.caseload.name])
        refresh_statistics(engine, caseload.caseload.name)
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                counted = conn.execute(
                    text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                    {"t": caseload.caseload.name},
                ).scalar()
                assert counted == 5
            else:
                tables = conn.execute(
                    text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
                ).all()
                assert tables == []
            assert len(conn.execute(select(caseload.caseload)).all()) == 5
    finally:
        engine.dispose()
