"""Client access links: a client's own, expiring, revocable key to their current plan.

A plan's clinician issues a link (``POST /plans/{id}/client-access``, ``plantrail client-access
issue``) so the client can read their plan as it stands, see its signature status, sign it
(``client``, ``agreed``), download it as a PDF and read who has seen it (45 CFR 164.524, and
the accounting of access of 164.528). The key reads ``pc_<grant id>_<secret>``, like a user's
token but with its own prefix; only its Argon2 hash is stored, and it is checked the same way
(one indexed query, one Argon2 verification remembered as a digest; ``accounts.Accounts``).

A grant is bound to one plan and to the client that plan names: the caller it authenticates is
a ``Principal`` with the role ``client``, user id ``client:<grant id>`` and the client's name, so
the access log and every event the client causes say who it was. It stops working when it
expires, when it is revoked, and when the plan's clinician changes the plan's client (never:
the client is fixed when a plan is opened).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, Engine, Index, MetaData, String, Table, insert, select
from sqlalchemy import update as sql_update

from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.projections.store.driver import Driver
from plantrail.projections.store.engine import WRITE
from plantrail.projections.store.failures import translated
from plantrail.projections.store.recorder import from_micros

CLIENT_TOKEN = re.compile(r"^pc_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


def sign_in_path(token: str) -> str:
    """The client's link to the sign-in page: the key rides in the fragment, which a browser
    never sends, so it reaches no server or proxy log; the page's own script moves it into the
    form and out of the address bar, and without script the client pastes it (docs/web.md,
    The client's pages)."""
    return f"/web/sign-in#key={token}"


CLIENT_USER_PREFIX = "client:"
"""A client caller's user id is this followed by the grant id."""
DEFAULT_DAYS = 30
MAX_DAYS = 365
"""Longest a link may live: a year, the usual span of a treatment plan."""

client_access_metadata = MetaData()

client_access = Table(
    "plantrail_client_access",
    client_access_metadata,
    Column("grant_id", String(16), primary_key=True),
    Column("plan_id", String(36), nullable=False),
    Column("client_id", String(200), nullable=False, comment="the plan's client (MRN)"),
    Column("client_name", String(200), nullable=False),
    Column("token_hash", String(200), nullable=False, comment="Argon2id, argon2-cffi encoding"),
    Column("issued_by", String(64), nullable=False),
    Column("issued_at_us", BigInteger, nullable=False),
    Column("expires_at_us", BigInteger, nullable=False),
    Column("revoked_at_us", BigInteger, nullable=True),
    Column("revoked_by", String(64), nullable=True),
    Index("plantrail_client_access_plan", "plan_id", "issued_at_us"),
    comment="Client access links (own table: older stores gain it without a migration)",
)

_GRANT_ROW = (
    "SELECT token_hash, plan_id, client_name, expires_at_us, revoked_at_us"
    " FROM plantrail_client_access WHERE grant_id = ?"
)


@dataclass(frozen=True)
class ClientGrant:
    """One client access link as stored (never its key)."""

    grant_id: str
    plan_id: str
    client_id: str
    client_name: str
    issued_by: str
    issued_at_us: int
    expires_at_us: int
    revoked_at_us: int | None
    revoked_by: str | None

    def status(self, now_us: int) -> str:
        if self.revoked_at_us is not None:
            return "revoked"
        return "expired" if now_us >= self.expires_at_us else "active"

    def as_dict(self, now_us: int) -> dict[str, Any]:
        return {
            "grant_id": self.grant_id,
            "plan_id": self.plan_id,
            "client_id": self.client_id,
            "client_name": self.client_name,
            "issued_by": self.issued_by,
            "issued_at": _instant(self.issued_at_us),
            "expires_at": _instant(self.expires_at_us),
            "revoked_at": _instant(self.revoked_at_us),
            "revoked_by": self.revoked_by,
            "status": self.status(now_us),
        }


@dataclass(frozen=True)
class ClientCaller:
    """What an accepted client key says: whose plan and under which name."""

    grant_id: str
    plan_id: UUID
    client_name: str

    @property
    def user_id(self) -> str:
        return CLIENT_USER_PREFIX + self.grant_id


def _instant(micros: int | None) -> str | None:
    if micros is None:
        return None
    return from_micros(micros).isoformat().replace("+00:00", "Z")


def create_client_access_tables(engine: Engine) -> None:
    with translated("create the client access table"):
        client_access_metadata.create_all(engine)


class ClientAccess:
    """Issues, lists, revokes and checks client access links on ``engine``.

    ``hash_token`` and ``verify`` are the accounts' Argon2 hashing and remembered verification,
    so a client key costs what a user's token costs and is kept the same way."""

    def __init__(
        self,
        engine: Engine,
        *,
        hash_token: Callable[[str], str],
        verify: Callable[[str, str, str], bool],
        clock_us: Callable[[], int],
    ) -> None:
        self.engine = engine
        self._hash = hash_token
        self._verify = verify
        self.clock_us = clock_us
        self._driver = Driver.of(engine)

    def create_tables(self) -> None:
        create_client_access_tables(self.engine)

    def issue(
        self,
        *,
        plan_id: UUID,
        client_id: str,
        client_name: str,
        issued_by: str,
        days: int = DEFAULT_DAYS,
    ) -> tuple[ClientGrant, str]:
        """A new link to ``plan_id`` for its client, valid ``days`` days; returns (grant, key).
        The key is shown once and not kept."""
        if not 1 <= days <= MAX_DAYS:
            raise InvalidInput.on("expires_in_days", f"must be between 1 and {MAX_DAYS}")
        grant_id = secrets.token_hex(8)
        token = f"pc_{grant_id}_{secrets.token_urlsafe(32)}"
        now = self.clock_us()
        grant = ClientGrant(
            grant_id=grant_id,
            plan_id=str(plan_id),
            client_id=client_id,
            client_name=client_name,
            issued_by=issued_by,
            issued_at_us=now,
            expires_at_us=now + days * 86_400_000_000,
            revoked_at_us=None,
            revoked_by=None,
        )
        with (
            translated("issue the client access link"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(
                insert(client_access).values(**asdict(grant), token_hash=self._hash(token))
            )
        return grant, token

    def grants(self, plan_id: UUID) -> list[ClientGrant]:
        """Every link ever issued for ``plan_id``, oldest first."""
        query = (
            select(client_access)
            .where(client_access.c.plan_id == str(plan_id))
            .order_by(client_access.c.issued_at_us, client_access.c.grant_id)
        )
        with translated("read the client access links"), self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_grant(r) for r in rows]

    def revoke(self, plan_id: UUID, grant_id: str, revoked_by: str) -> ClientGrant:
        """Revoke one of ``plan_id``'s links at once (idempotent: a revoked link stays revoked
        as it was)."""
        found = self._grant(plan_id, grant_id)
        if found is None:
            raise NotFound(f"plan {plan_id} has no client access link {grant_id}")
        if found.revoked_at_us is None:
            with (
                translated("revoke the client access link"),
                self.engine.connect().execution_options(**WRITE) as conn,
                conn.begin(),
            ):
                conn.execute(
                    sql_update(client_access)
                    .where(
                        client_access.c.grant_id == grant_id,
                        client_access.c.revoked_at_us.is_(None),
                    )
                    .values(revoked_at_us=self.clock_us(), revoked_by=revoked_by)
                )
        revoked = self._grant(plan_id, grant_id)
        assert revoked is not None
        return revoked

    def _grant(self, plan_id: UUID, grant_id: str) -> ClientGrant | None:
        query = select(client_access).where(
            client_access.c.grant_id == grant_id, client_access.c.plan_id == str(plan_id)
        )
        with translated("read the client access link"), self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _grant(row)

    def authenticate(self, token: str) -> ClientCaller | None:
        """The live grant ``token`` opens, or None (unknown, expired, revoked, malformed)."""
        match = CLIENT_TOKEN.match(token)
        if match is None:
            return None
        return self._live(match.group(1), token)

    def caller(self, grant_id: str) -> ClientCaller | None:
        """The live grant ``grant_id`` (a client's web session names it), or None."""
        return self._live(grant_id, None)

    def _live(self, grant_id: str, token: str | None) -> ClientCaller | None:
        with translated("check the client access link"):
            row = self._driver.first(_GRANT_ROW, (grant_id,))
        if row is None:
            return None
        stored, plan_id, client_name, expires_at_us, revoked_at_us = row
        if revoked_at_us is not None or self.clock_us() >= int(expires_at_us):
            return None
        if token is not None and not self._verify(grant_id, str(stored), token):
            return None
        return ClientCaller(grant_id, UUID(str(plan_id)), str(client_name))

    def close(self) -> None:
        self._driver.close()


def _grant(row: Any) -> ClientGrant:
    return ClientGrant(
        grant_id=row.grant_id,
        plan_id=row.plan_id,
        client_id=row.client_id,
        client_name=row.client_name,
        issued_by=row.issued_by,
        issued_at_us=int(row.issued_at_us),
        expires_at_us=int(row.expires_at_us),
        revoked_at_us=None if row.revoked_at_us is None else int(row.revoked_at_us),
        revoked_by=row.revoked_by,
    )


def is_client_user(user_id: str) -> bool:
    return user_id.startswith(CLIENT_USER_PREFIX)


def grant_of(user_id: str) -> str:
    return user_id[len(CLIENT_USER_PREFIX) :]
