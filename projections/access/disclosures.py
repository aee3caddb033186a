"""The accounting of access to one plan: who read or changed it, and when, from the access log.

The practice can give it to the client who asks who has seen their record (45 CFR 164.528 and
the access report HIPAA's proposed rule adds), to the plan's clinician and supervisor, and to
an auditor or the practice's privacy officer (an admin). Only what succeeded is listed: a
refused or failed request disclosed nothing. Emergency (break-glass) reads carry the reason the
reader gave.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, select

from plantrail.projections.access.access_log import access_log
from plantrail.projections.store.failures import translated
from plantrail.projections.store.recorder import from_micros

MAX_LIMIT = 5000
_READS = ("GET", "HEAD")


def disclosures(
    engine: Engine,
    plan_id: str,
    *,
    names: Mapping[str, str],
    after: int = 0,
    limit: int = 500,
) -> dict[str, Any]:
    """One page of the plan's accesses after access-log row ``after``, oldest first, with the
    ``after`` to ask for the next page (None at the end). ``names`` maps user ids to names."""
    query = (
        select(access_log)
        .where(
            access_log.c.plan_id == plan_id,
            access_log.c.outcome == "ok",
            access_log.c.seq > after,
        )
        .order_by(access_log.c.seq)
        .limit(limit + 1)
    )
    with translated("read the access log"), engine.connect() as conn:
        rows = conn.execute(query).all()
    more = len(rows) > limit
    shown = rows[:limit]
    out = []
    for row in shown:
        user_id = row.user_id
        name = names.get(user_id or "")
        if name is None and user_id and user_id.startswith("client:"):
            name = "the client (client access link)"
        out.append(
            {
                "seq": int(row.seq),
                "recorded_at": from_micros(int(row.recorded_at_us))
                .isoformat()
                .replace("+00:00", "Z"),
                "user_id": user_id,
                "name": name,
                "role": row.role,
                "access": "read" if row.method in _READS else "write",
                "action": row.action,
                "route": row.route,
                "break_glass_reason": row.break_glass_reason,
            }
        )
    return {
        "plan_id": plan_id,
        "disclosures": out,
        "next_after": int(shown[-1].seq) if more and shown else None,
    }
