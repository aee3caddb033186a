"""Users, their API tokens and passwords, and supervisor ↔ supervisee links.

Tables live on the plan store's engine (``create_account_tables``). Tokens are shown once and
stored only as Argon2 hashes (argon2-cffi). A token reads ``pt_<token id>_<secret>``: the token
id is a random public lookup key, so authenticating a request costs one indexed query and one
Argon2 verification. Argon2 hashes are salted, so they cannot themselves be indexed, and Argon2 is
deliberately slow (~0.15 s here), so trying every stored hash is not an option. After a token has
verified once, the process remembers a SHA-256 digest of it beside the stored hash it verified
against, and later requests compare digests in constant time: the database still holds nothing
but Argon2 hashes, and a changed, revoked or disabled token is refused at once because the user
and token rows are read on every request.

This module says who a caller is (a ``Principal``); what each role may do is ``policy``, applied
in the data path (``gateway``) on every access.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    ForeignKey,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)

from plantrail.domain.errors import InvalidInput, NotFound
from plantrail.domain.validation import check_text
from plantrail.projections.access.client_access import (
    ClientAccess,
    ClientCaller,
    grant_of,
    is_client_user,
)
from plantrail.projections.access.policy import ROLES, Principal, Role
from plantrail.projections.access.web_sessions import end_sessions_of, sessions_metadata
from plantrail.projections.store.driver import Driver
from plantrail.projections.store.engine import WRITE
from plantrail.projections.store.failures import translated
from plantrail.projections.store.recorder import to_micros

USER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
TOKEN = re.compile(r"^pt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")

accounts_metadata = MetaData()

# The look-ups every request makes, as plain SQL on the driver (``store/driver.py``): through
# SQLAlchemy Core they cost 0.5–0.6 ms (pool check-out, pre-ping, BEGIN/ROLLBACK, statement
# set-up), on the driver 20 µs on SQLite and 70 µs on PostgreSQL. ``?`` is the marker.
_TOKEN_ROW = (
    "SELECT t.token_hash, u.user_id, u.name, u.role, u.credentials, u.license_number, u.disabled"
    " FROM plantrail_tokens t JOIN plantrail_users u ON u.user_id = t.user_id"
    " WHERE t.token_id = ? AND t.revoked_at_us IS NULL"
)
_USER_ROW = (
    "SELECT user_id, name, role, credentials, license_number, disabled"
    " FROM plantrail_users WHERE user_id = ?"
)
_SUPERVISEES = "SELECT supervisee_id FROM plantrail_supervision WHERE supervisor_id = ?"

users = Table(
    "plantrail_users",
    accounts_metadata,
    Column("user_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("credentials", String(200), nullable=True),
    Column("license_number", String(200), nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at_us", BigInteger, nullable=False),
)

passwords = Table(
    "plantrail_passwords",
    accounts_metadata,
    Column("user_id", String(64), ForeignKey("plantrail_users.user_id"), primary_key=True),
    Column("password_hash", String(200), nullable=False, comment="Argon2id, argon2-cffi encoding"),
    Column("set_at_us", BigInteger, nullable=False),
    comment="Web sign-in passwords (own table: older stores gain it without a migration)",
)

MIN_PASSWORD = 12
"""Shortest password accepted: NIST SP 800-63B asks at least 8; a clinical record, 12."""

tokens = Table(
    "plantrail_tokens",
    accounts_metadata,
    Column("token_id", String(16), primary_key=True),
    Column("user_id", String(64), ForeignKey("plantrail_users.user_id"), nullable=False),
    Column("token_hash", String(200), nullable=False, comment="Argon2id, argon2-cffi encoding"),
    Column("created_at_us", BigInteger, nullable=False),
    Column("revoked_at_us", BigInteger, nullable=True),
)

supervision = Table(
    "plantrail_supervision",
    accounts_metadata,
    Column("supervisor_id", String(64), ForeignKey("plantrail_users.user_id"), primary_key=True),
    Column("supervisee_id", String(64), ForeignKey("plantrail_users.user_id"), primary_key=True),
    Column("created_at_us", BigInteger, nullable=False),
)


@dataclass(frozen=True)
class User:
    """A user as the accounts table knows them."""

    user_id: str
    name: str
    role: Role
    credentials: str | None = None
    license_number: str | None = None
    disabled: bool = False
    supervisor_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "role": self.role,
            "credentials": self.credentials,
            "license_number": self.license_number,
            "disabled": self.disabled,
            "supervisor_ids": list(self.supervisor_ids),
        }


# --------------------------------------------------------------------------- the tables
def create_account_tables(engine: Engine) -> None:
    with translated("create the account tables"):
        accounts_metadata.create_all(engine)


def _now_us() -> int:
    return to_micros(datetime.now(UTC))


def new_token() -> tuple[str, str]:
    """(token id, whole token): ``pt_<16 hex>_<43 url-safe characters, 256 random bits>``."""
    token_id = secrets.token_hex(8)
    return token_id, f"pt_{token_id}_{secrets.token_urlsafe(32)}"


def slug(name: str) -> str:
    """'Dana Reyes' → 'dana-reyes'."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text[:64] or "user"


class Accounts:
    """Users, tokens and supervision links on ``engine``."""

    def __init__(
        self,
        engine: Engine,
        *,
        hasher: PasswordHasher | None = None,
        clock_us: Callable[[], int] = _now_us,
        cache_size: int = 1024,
    ) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        self.clock_us = clock_us
        self._verified: dict[tuple[str, str], bytes] = {}
        self._verifying: dict[tuple[str, str], threading.Lock] = {}
        self._driver = Driver.of(engine)
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._decoy_hash: str | None = None
        self.clients = ClientAccess(
            engine, hash_token=self.hasher.hash, verify=self._verify, clock_us=clock_us
        )
        """Client access links, checked on the same path as users' tokens."""

    def create_tables(self) -> None:
        create_account_tables(self.engine)
        self.clients.create_tables()
        with translated("create the web session table"):
            # a token or password replaced ends the user's sessions, in the same transaction
            sessions_metadata.create_all(self.engine)

    # ------------------------------------------------------------------------- users
    def add_user(
        self,
        *,
        name: str,
        role: str,
        credentials: str | None = None,
        license_number: str | None = None,
        supervisor_id: str | None = None,
        user_id: str | None = None,
    ) -> tuple[User, str]:
        """Create a user and their first token; returns (user, token). The token is not kept."""
        name = _text("name", name)
        credentials = _text("credentials", credentials) if credentials is not None else None
        license_number = _text("license", license_number) if license_number is not None else None
        if role not in ROLES:
            raise InvalidInput.on("role", f"must be one of {', '.join(ROLES)}")
        wanted = user_id if user_id is not None else slug(name)
        if not USER_ID.match(wanted):
            raise InvalidInput.on(
                "id",
                "must be 1–64 lower-case letters, digits, '.', '_' or '-', starting with a "
                "letter or digit",
            )
        if supervisor_id is not None:
            if role not in ("clinician", "supervisor"):
                raise InvalidInput.on("supervisor", f"a {role} has no clinical supervisor")
            supervisor = self.get(supervisor_id)
            if supervisor is None or supervisor.role != "supervisor" or supervisor.disabled:
                raise InvalidInput.on(
                    "supervisor", f"{supervisor_id!r} is not an active supervisor"
                )
        token_id, token = new_token()
        digest = self.hasher.hash(token)
        now = self.clock_us()
        with (
            translated("add the user"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            taken = conn.execute(select(users.c.user_id).where(users.c.user_id == wanted)).first()
            if taken is not None:
                if user_id is not None:
                    raise InvalidInput.on("id", f"{wanted!r} is already taken")
                wanted = self._free_id(conn, wanted)
            conn.execute(
                insert(users).values(
                    user_id=wanted,
                    name=name,
                    role=role,
                    credentials=credentials,
                    license_number=license_number,
                    disabled=False,
                    created_at_us=now,
                )
            )
            conn.execute(
                insert(tokens).values(
                    token_id=token_id, user_id=wanted, token_hash=digest, created_at_us=now
                )
            )
            if supervisor_id is not None:
                conn.execute(
                    insert(supervision).values(
                        supervisor_id=supervisor_id, supervisee_id=wanted, created_at_us=now
                    )
                )
        user = self.get(wanted)
        assert user is not None
        return user, token

    @staticmethod
    def _free_id(conn: object, base: str) -> str:
        for n in range(2, 10_000):
            candidate = f"{base[:58]}-{n}"
            found = conn.execute(  # type: ignore[attr-defined]
                select(users.c.user_id).where(users.c.user_id == candidate)
            ).first()
            if found is None:
                return candidate
        raise InvalidInput.on("id", "no free id: give one with --id")

    def issue_token(self, user_id: str) -> str:
        """A new token for ``user_id``; earlier tokens are revoked and the user's web sessions
        end."""
        user = self.get(user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        token_id, token = new_token()
        digest = self.hasher.hash(token)
        now = self.clock_us()
        with (
            translated("issue a token"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(
                update(tokens)
                .where(tokens.c.user_id == user_id, tokens.c.revoked_at_us.is_(None))
                .values(revoked_at_us=now)
            )
            conn.execute(
                insert(tokens).values(
                    token_id=token_id, user_id=user_id, token_hash=digest, created_at_us=now
                )
            )
            end_sessions_of(conn, user_id, now, "credentials_replaced")
        return token

    def link(self, supervisor_id: str, supervisee_id: str) -> None:
        """Make ``supervisor_id`` the supervisor of ``supervisee_id`` (idempotent)."""
        supervisor = self.get(supervisor_id)
        supervisee = self.get(supervisee_id)
        if supervisor is None or supervisor.role != "supervisor":
            raise InvalidInput.on("supervisor", f"{supervisor_id!r} is not a supervisor")
        if supervisee is None or supervisee.role not in ("clinician", "supervisor"):
            raise InvalidInput.on("supervisee", f"{supervisee_id!r} is not a clinician")
        if supervisor_id == supervisee_id:
            raise InvalidInput.on("supervisee", "a supervisor cannot supervise themselves")
        if supervisor_id in supervisee.supervisor_ids:
            return
        with (
            translated("link the users"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(
                insert(supervision).values(
                    supervisor_id=supervisor_id,
                    supervisee_id=supervisee_id,
                    created_at_us=self.clock_us(),
                )
            )

    def disable(self, user_id: str) -> User:
        """Disable ``user_id``: every token of theirs stops working at once."""
        with (
            translated("disable the user"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            done = conn.execute(
                update(users).where(users.c.user_id == user_id).values(disabled=True)
            )
        if done.rowcount == 0:
            raise NotFound(f"no user {user_id}")
        user = self.get(user_id)
        assert user is not None
        return user

    def set_password(self, user_id: str, password: str) -> None:
        """Set (or replace) ``user_id``'s password for the web pages; stored as Argon2 only. The
        user's web sessions end."""
        if self.get(user_id) is None:
            raise NotFound(f"no user {user_id}")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput.on("password", f"must be at least {MIN_PASSWORD} characters")
        if len(password) > 256:
            raise InvalidInput.on("password", "must be at most 256 characters")
        digest = self.hasher.hash(password)
        now = self.clock_us()
        with (
            translated("set the password"),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            conn.execute(passwords.delete().where(passwords.c.user_id == user_id))
            conn.execute(
                insert(passwords).values(user_id=user_id, password_hash=digest, set_at_us=now)
            )
            end_sessions_of(conn, user_id, now, "credentials_replaced")

    def check_password(self, user_id: str, password: str) -> Principal | None:
        """The enabled user if ``password`` is theirs, else None (unknown user, no password,
        wrong password and disabled user all look the same to the caller)."""
        if not USER_ID.match(user_id) or not password or len(password) > 256:
            return None
        with translated("check the password"), self.engine.connect() as conn:
            stored = conn.execute(
                select(passwords.c.password_hash).where(passwords.c.user_id == user_id)
            ).scalar()
        if stored is None:
            # Spend the same Argon2 time as for a real user, so the answer's delay does not
            # tell who has a password.
            stored = self._decoy()
            password = "\x00" + password
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return self.principal(user_id)

    def _decoy(self) -> str:
        with self._lock:
            if self._decoy_hash is None:
                self._decoy_hash = self.hasher.hash(secrets.token_urlsafe(16))
            return self._decoy_hash

    def get(self, user_id: str) -> User | None:
        found = self.list_users(user_id=user_id)
        return found[0] if found else None

    def list_users(self, *, user_id: str | None = None) -> list[User]:
        query = select(users).order_by(users.c.user_id)
        links = select(supervision.c.supervisee_id, supervision.c.supervisor_id).order_by(
            supervision.c.supervisor_id
        )
        if user_id is not None:
            query = query.where(users.c.user_id == user_id)
            links = links.where(supervision.c.supervisee_id == user_id)
        with translated("read the users"), self.engine.connect() as conn:
            rows = conn.execute(query).all()
            pairs = conn.execute(links).all()
        supervisors: dict[str, list[str]] = {}
        for supervisee, supervisor in pairs:
            supervisors.setdefault(supervisee, []).append(supervisor)
        return [
            User(
                user_id=r.user_id,
                name=r.name,
                role=r.role,
                credentials=r.credentials,
                license_number=r.license_number,
                disabled=bool(r.disabled),
                supervisor_ids=tuple(supervisors.get(r.user_id, ())),
            )
            for r in rows
        ]

    # -------------------------------------------------------------------- authentication
    def authenticate(self, token: str) -> Principal | None:
        """The enabled user ``token`` belongs to, or None (unknown, revoked, disabled, bad).

        The token and user rows are read on every call, so revoking the token or disabling the
        user takes effect on the next request; only the Argon2 verification is remembered."""
        if token.startswith("pc_"):
            return _client_principal(self.clients.authenticate(token))
        match = TOKEN.match(token)
        if match is None:
            return None
        token_id = match.group(1)
        with translated("check the token"):
            row = self._driver.first(_TOKEN_ROW, (token_id,))
        if row is None:
            return None
        stored, user_id, name, role, credentials, license_number, disabled = row
        if disabled or not self._verify(token_id, stored, token):
            return None
        return self._principal(user_id, name, role, credentials, license_number)

    def principal(self, user_id: str) -> Principal | None:
        """The enabled user ``user_id`` as a caller (a web session names its user; the user row
        is read on every request, so disabling the user ends their sessions at once). A client's
        session names its access link (``client:<grant id>``), which is checked the same way."""
        if is_client_user(user_id):
            return _client_principal(self.clients.caller(grant_of(user_id)))
        with translated("check the session's user"):
            row = self._driver.first(_USER_ROW, (user_id,))
        if row is None:
            return None
        found, name, role, credentials, license_number, disabled = row
        if disabled:
            return None
        return self._principal(found, name, role, credentials, license_number)

    def _principal(
        self,
        user_id: str,
        name: str,
        role: Role,
        credentials: str | None,
        license_number: str | None,
    ) -> Principal:
        supervisees: frozenset[str] = frozenset()
        if role == "supervisor":
            with translated("check the token"):
                rows = self._driver.all(_SUPERVISEES, (user_id,))
            supervisees = frozenset(r[0] for r in rows)
        return Principal(
            user_id=user_id,
            name=name,
            role=role,
            credentials=credentials,
            license_number=license_number,
            supervisees=supervisees,
        )

    def close(self) -> None:
        """Close the connections kept for authentication (they reopen when needed)."""
        self._driver.close()
        self.clients.close()

    def _verify(self, token_id: str, stored: str, token: str) -> bool:
        digest = hashlib.sha256(token.encode()).digest()
        key = (token_id, stored)
        with self._lock:
            known = self._verified.get(key)
            verifying = self._verifying.setdefault(key, threading.Lock())
        if known is not None:
            return hmac.compare_digest(known, digest)
        # One Argon2 verification per token at a time: concurrent first requests with the same
        # token wait for it and then compare digests, instead of each spending ~0.15 s of CPU.
        with verifying:
            with self._lock:
                known = self._verified.get(key)
            if known is not None:
                return hmac.compare_digest(known, digest)
            try:
                self.hasher.verify(stored, token)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False
            with self._lock:
                if len(self._verified) >= self._cache_size:
                    self._verified.clear()
                    self._verifying.clear()
                self._verified[key] = digest
        return True


def _client_principal(found: ClientCaller | None) -> Principal | None:
    if found is None:
        return None
    return Principal(
        user_id=found.user_id, name=found.client_name, role="client", plan_id=found.plan_id
    )


def _text(field_name: str, value: str) -> str:
    try:
        text = check_text(value)
    except ValueError as error:
        raise InvalidInput.on(field_name, str(error)) from None
    if len(text) > 200:
        raise InvalidInput.on(field_name, "must be at most 200 characters")
    return text
