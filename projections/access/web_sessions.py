"""Server-side sessions of the web pages.

The browser holds only a random session id in an HttpOnly cookie; the table holds its SHA-256
(a reader of the database cannot take over a session) with the user, when it started, when it
was last used and when it ended. A session ends on sign-out, after ``idle_seconds`` without a
request and, whatever the activity, ``absolute_seconds`` after it started. The API token a user
signs in with is never stored here or in the cookie.

Each form's CSRF token is an HMAC of the session id: it needs no storage, changes with every
session, and cannot be computed by a page that does not know the cookie.

A session can be **handed over** to the client for one plan (``plantrail_web_hand_overs``, one
row per session while it lasts): the clinician's device then shows that plan's hand-over screen
and nothing else until the clinician ends it with their sign-in credential (docs/web.md,
"Handing the device to the client"). The row lives in a table of its own, created with the
sessions' (an older store gains it from ``plantrail migrate``, step 0006; no column of an
existing table changes),
and is read in the same query as the session, so a page request costs no extra round trip.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, MetaData, String, Table, delete, insert, update
from sqlalchemy.engine import Connection, Engine

from plantrail.projections.store.driver import Driver
from plantrail.projections.store.engine import WRITE
from plantrail.projections.store.failures import translated

sessions_metadata = MetaData()

web_sessions = Table(
    "plantrail_web_sessions",
    sessions_metadata,
    Column("session_hash", String(64), primary_key=True, comment="SHA-256 of the cookie value"),
    Column("user_id", String(64), nullable=False, index=True),
    Column("started_at_us", BigInteger, nullable=False),
    Column("seen_at_us", BigInteger, nullable=False),
    Column("ended_at_us", BigInteger, nullable=True),
    Column("end_reason", String(20), nullable=True),
)

web_hand_overs = Table(
    "plantrail_web_hand_overs",
    sessions_metadata,
    Column("session_hash", String(64), primary_key=True, comment="the session handed over"),
    Column("plan_id", String(36), nullable=False, comment="the one plan it shows"),
    Column("started_at_us", BigInteger, nullable=False),
    Column("finished_at_us", BigInteger, nullable=True, comment="the client signed or declined"),
)

SESSION_IDLE_MINUTES = "PLANTRAIL_SESSION_IDLE_MINUTES"
SESSION_HOURS = "PLANTRAIL_SESSION_HOURS"
SECURE_COOKIES = "PLANTRAIL_SECURE_COOKIES"
"""How ``plantrail serve`` hands its session options to every worker process."""

_SESSION_ROW = (
    "SELECT s.user_id, s.started_at_us, s.seen_at_us, s.ended_at_us, h.plan_id,"
    " h.finished_at_us FROM plantrail_web_sessions s LEFT JOIN plantrail_web_hand_overs h"
    " ON h.session_hash = s.session_hash WHERE s.session_hash = ?"
)
_TOUCH = "UPDATE plantrail_web_sessions SET seen_at_us = ? WHERE session_hash = ?"

TOUCH_EVERY_US = 30_000_000
"""Last-use times are written at most every 30 s: a page view is not a database write each."""


def end_sessions_of(conn: Connection, user_id: str, now: int, reason: str) -> None:
    """End every live session of ``user_id`` on ``conn`` (in the caller's transaction): a
    replaced token or password may be known to someone else, and a session it opened must not
    outlive it (docs/web.md, Signing in)."""
    conn.execute(
        update(web_sessions)
        .where(web_sessions.c.user_id == user_id, web_sessions.c.ended_at_us.is_(None))
        .values(ended_at_us=now, end_reason=reason)
    )


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class HandOver:
    """A session handed to the client: the plan it shows, and whether the client is done
    (signed or declined) and the device waits for the clinician."""

    plan_id: str
    finished: bool = False


@dataclass(frozen=True)
class ActiveSession:
    session_id: str
    user_id: str
    csrf_token: str
    hand_over: HandOver | None = None


class WebSessions:
    """Sessions on ``engine``; ``clock_us`` is the server's clock in microseconds."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock_us: Callable[[], int],
        secret: bytes,
        idle_seconds: int = 15 * 60,
        absolute_seconds: int = 12 * 3600,
    ) -> None:
        self.engine = engine
        self._driver = Driver.of(engine)
        self.clock_us = clock_us
        self.secret = secret
        self.idle_us = idle_seconds * 1_000_000
        self.absolute_us = absolute_seconds * 1_000_000

    def create_tables(self) -> None:
        with translated("create the web session table"):
            sessions_metadata.create_all(self.engine)

    def csrf_token(self, session_id: str) -> str:
        return hmac.new(self.secret, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()

    def start(self, user_id: str) -> ActiveSession:
        session_id = secrets.token_urlsafe(32)
        now = self.clock_us()
        with (
            translated("start the session"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(
                insert(web_sessions).values(
                    session_hash=_hash(session_id),
                    user_id=user_id,
                    started_at_us=now,
                    seen_at_us=now,
                )
            )
        return ActiveSession(session_id, user_id, self.csrf_token(session_id))

    def resume(self, session_id: str) -> ActiveSession | None:
        """The live session with this id, its last use moved to now; None when unknown,
        ended, idle too long or too old (an expired session is ended, with the reason)."""
        if not session_id or len(session_id) > 100:
            return None
        key = _hash(session_id)
        # Every page request comes through here: plain SQL on the store's driver, as the token
        # checks do, not SQLAlchemy Core's per-statement work.
        with translated("check the session"):
            row = self._driver.first(_SESSION_ROW, (key,))
        if row is None:
            return None
        user_id, started_at_us, seen_at_us, ended_at_us, plan_id, finished_at_us = row
        if ended_at_us is not None:
            return None
        now = self.clock_us()
        if now - started_at_us > self.absolute_us:
            self._end(key, now, "expired")
            return None
        if now - seen_at_us > self.idle_us:
            self._end(key, now, "idle")
            return None
        if now - seen_at_us > TOUCH_EVERY_US:
            with translated("check the session"), self._driver.transaction() as cursor:
                cursor.execute(self._driver.sql(_TOUCH), (now, key))
        hand_over = HandOver(plan_id, finished_at_us is not None) if plan_id else None
        return ActiveSession(session_id, user_id, self.csrf_token(session_id), hand_over)

    def hand_over(self, session_id: str, plan_id: str) -> None:
        """Show only ``plan_id``'s hand-over screen on this session until ``take_back``; a
        session already handed over keeps its plan."""
        key = _hash(session_id)
        with (
            translated("hand the session over"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            found = conn.execute(
                web_hand_overs.select().where(web_hand_overs.c.session_hash == key)
            ).first()
            if found is None:
                conn.execute(
                    insert(web_hand_overs).values(
                        session_hash=key, plan_id=plan_id, started_at_us=self.clock_us()
                    )
                )

    def hand_over_finished(self, session_id: str) -> None:
        """The client signed or declined: the device now waits for the clinician."""
        with (
            translated("record the hand-over"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(
                update(web_hand_overs)
                .where(
                    web_hand_overs.c.session_hash == _hash(session_id),
                    web_hand_overs.c.finished_at_us.is_(None),
                )
                .values(finished_at_us=self.clock_us())
            )

    def take_back(self, session_id: str) -> None:
        """The clinician has proved who they are: the session is theirs again."""
        with (
            translated("end the hand-over"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(
                delete(web_hand_overs).where(web_hand_overs.c.session_hash == _hash(session_id))
            )

    def end(self, session_id: str) -> None:
        """Sign-out: the session stops working at once, on every worker."""
        self._end(_hash(session_id), self.clock_us(), "signed_out")

    def _end(self, key: str, now: int, reason: str) -> None:
        with (
            translated("end the session"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(
                update(web_sessions)
                .where(web_sessions.c.session_hash == key, web_sessions.c.ended_at_us.is_(None))
                .values(ended_at_us=now, end_reason=reason)
            )
