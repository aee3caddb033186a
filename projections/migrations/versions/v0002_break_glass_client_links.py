"""Break-glass reads and client links: the access log's reason column, two new tables.

Commit 3df6a79 (2026-12-03) added ``plantrail_access_log.break_glass_reason``, until now by an
``ALTER TABLE`` that the access log ran whenever it was opened, and the tables
``plantrail_client_access`` and ``plantrail_break_glass_reviews`` (append-only); 01bb389
(2026-12-04) widened ``plantrail_client_access.client_id`` to 200 characters (an MRN as long as
a plan's). Adding a nullable column rewrites no row of the access log and changes no row's hash
(a row's hashed content holds the reason only when it is not null).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from plantrail.projections.migrations.checks import columns, dialect, has_table
from plantrail.projections.store.append_only import append_only_ddl

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if has_table("plantrail_access_log") and "break_glass_reason" not in columns(
        "plantrail_access_log"
    ):
        op.add_column(
            "plantrail_access_log",
            sa.Column(
                "break_glass_reason",
                sa.String(500),
                nullable=True,
                comment="an emergency read outside the caller's reach: the reason given (ADR 0016)",
            ),
        )
    if not has_table("plantrail_client_access"):
        op.create_table(
            "plantrail_client_access",
            sa.Column("grant_id", sa.String(16), primary_key=True),
            sa.Column("plan_id", sa.String(36), nullable=False),
            sa.Column(
                "client_id", sa.String(200), nullable=False, comment="the plan's client (MRN)"
            ),
            sa.Column("client_name", sa.String(200), nullable=False),
            sa.Column(
                "token_hash",
                sa.String(200),
                nullable=False,
                comment="Argon2id, argon2-cffi encoding",
            ),
            sa.Column("issued_by", sa.String(64), nullable=False),
            sa.Column("issued_at_us", sa.BigInteger, nullable=False),
            sa.Column("expires_at_us", sa.BigInteger, nullable=False),
            sa.Column("revoked_at_us", sa.BigInteger, nullable=True),
            sa.Column("revoked_by", sa.String(64), nullable=True),
            comment="Client access links (own table: older stores gain it without a migration)",
        )
        op.create_index(
            "plantrail_client_access_plan", "plantrail_client_access", ["plan_id", "issued_at_us"]
        )
    elif dialect() == "postgresql":
        # SQLite does not enforce a VARCHAR's length; PostgreSQL widens one without a rewrite.
        length = getattr(columns("plantrail_client_access")["client_id"]["type"], "length", None)
        if length is not None and length < 200:
            op.alter_column(
                "plantrail_client_access",
                "client_id",
                type_=sa.String(200),
                existing_type=sa.String(length),
                existing_nullable=False,
                existing_comment="the plan's client (MRN)",
            )
    if not has_table("plantrail_break_glass_reviews"):
        op.create_table(
            "plantrail_break_glass_reviews",
            sa.Column("access_seq", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("reviewed_by", sa.String(64), nullable=False),
            sa.Column("reviewed_at_us", sa.BigInteger, nullable=False),
            sa.Column("note", sa.String(2000), nullable=False),
            comment="An admin's review of one break-glass read (append-only)",
        )
        for statement in append_only_ddl("plantrail_break_glass_reviews")[dialect()]:
            op.execute(statement)
