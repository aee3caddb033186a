"""``plantrail users``, ``plantrail access-log`` and the access-log part of ``plantrail verify``,
run as a user runs them (the console script in a subprocess) against both stores."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, select, text

from plantrail.api.server.app import create_app
from plantrail.projections.assembly import open_service, recorder_of
from tests.support.cli import plantrail
from tests.support.http import TestClient


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> tuple[str, Path]:
    keys = tmp_path / "keys"
    plantrail("init", db=store_url, keys=keys)
    return store_url, keys


def add(store: tuple[str, Path], *args: str) -> dict[str, Any]:
    db, keys = store
    found: dict[str, Any] = json.loads(
        plantrail("users", "add", *args, "--json", db=db, keys=keys).stdout
    )
    return found


def test_users_add_list_disable(store: tuple[str, Path]) -> None:
    db, keys = store
    sam = add(store, "--name", "Sam Okafor", "--role", "supervisor", "--credentials", "PhD")
    dana = add(store, "--name", "Dana Reyes", "--role", "clinician", "--credentials", "LCSW",
               "--license", "LC-4471", "--supervisor", sam["user_id"])  # fmt: skip
    assert set(dana) == {"user_id", "token"}
    assert dana["user_id"] == "dana-reyes"
    assert dana["token"].startswith("pt_")
    twin = add(store, "--name", "Dana Reyes", "--role", "clinician")
    assert twin["user_id"] == "dana-reyes-2"
    chosen = add(store, "--name", "A. Kim", "--role", "auditor", "--id", "alex-kim")
    assert chosen["user_id"] == "alex-kim"

    listed = json.loads(plantrail("users", "list", "--json", db=db, keys=keys).stdout)
    by_id = {u["user_id"]: u for u in listed}
    assert by_id["dana-reyes"]["supervisor_ids"] == ["sam-okafor"]
    assert by_id["dana-reyes"]["license_number"] == "LC-4471"
    assert all("token" not in u for u in listed)
    table = plantrail("users", "list", db=db, keys=keys).stdout
    assert "dana-reyes" in table
    assert "supervisor" in table

    plantrail("users", "disable", "dana-reyes-2", db=db, keys=keys)
    listed = json.loads(plantrail("users", "list", "--json", db=db, keys=keys).stdout)
    assert {u["user_id"]: u["disabled"] for u in listed}["dana-reyes-2"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--name", "X", "--role", "boss"), "role"),
        (("--name", "X", "--role", "clinician", "--supervisor", "nobody"), "supervisor"),
        (("--name", "X", "--role", "clinician", "--id", "Bad Id"), "id"),
        (("--name", "   ", "--role", "clinician"), "name"),
    ],
)
def test_users_add_refuses_bad_input(
    store: tuple[str, Path], args: tuple[str, ...], message: str
) -> None:
    db, keys = store
    result = plantrail("users", "add", *args, db=db, keys=keys, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_tokens_are_stored_only_as_argon2_hashes(store: tuple[str, Path]) -> None:
    db, keys = store
    dana = add(store, "--name", "Dana Reyes", "--role", "clinician")
    engine = create_engine(db)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_id, token_hash FROM plantrail_tokens")).all()
        users = conn.execute(text("SELECT * FROM plantrail_users")).all()
    engine.dispose()
    assert len(stored) == 1
    token_id, digest = stored[0]
    assert dana["token"].startswith(f"pt_{token_id}_")
    assert digest.startswith("$argon2id$")
    assert dana["token"] not in repr(users) + repr(stored)
    assert PasswordHasher().verify(digest, dana["token"])

    plantrail("users", "token", "dana-reyes", db=db, keys=keys)
    service = open_service(db, keys)
    try:
        client = TestClient(create_app(service))
        old = client.get("/me", headers={"Authorization": f"Bearer {dana['token']}"})
        assert old.status_code == 401
    finally:
        service.close()
        recorder_of(service).close()


def test_access_log_command_and_verify(store: tuple[str, Path]) -> None:
    db, keys = store
    dana = add(store, "--name", "Dana Reyes", "--role", "clinician")
    marcus = add(store, "--name", "Marcus Hill", "--role", "clinician")
    service = open_service(db, keys)
    try:
        client = TestClient(create_app(service))
        end = (service.clock().date() + timedelta(days=200)).isoformat()
        opened = client.post(
            "/plans",
            headers={"Authorization": f"Bearer {dana['token']}"},
            json={"client": {"id": "M-1", "name": "Jo Ray", "date_of_birth": "1980-01-01"},
                  "plan_end_date": end},
        )  # fmt: skip
        assert opened.status_code == 201, opened.text
        plan_id = opened.json()["plan_id"]
        client.get(f"/plans/{plan_id}", headers={"Authorization": f"Bearer {dana['token']}"})
        client.get(f"/plans/{plan_id}", headers={"Authorization": f"Bearer {marcus['token']}"})
        client.get(f"/plans/{plan_id}")
    finally:
        service.close()
        recorder_of(service).close()

    rows = json.loads(plantrail("access-log", "--plan", plan_id, "--json", db=db, keys=keys).stdout)
    outcomes = [(r["user_id"], r["action"], r["status"], r["outcome"]) for r in rows]
    assert (dana["user_id"], "view:plan", 200, "ok") in outcomes
    assert (marcus["user_id"], "view:plan", 404, "denied") in outcomes
    assert (None, "request", 401, "unauthenticated") in outcomes
    mine = json.loads(plantrail("access-log", "--user", marcus["user_id"], "--json",
                                db=db, keys=keys).stdout)  # fmt: skip
    assert [r["outcome"] for r in mine] == ["denied"]
    assert "denied" in plantrail("access-log", db=db, keys=keys).stdout

    report = json.loads(plantrail("verify", "--json", db=db, keys=keys).stdout)
    assert report["access_log"]["ok"] is True
    assert report["access_log"]["entries_checked"] == len(rows) == 4

    # Someone with database access rewrites an entry behind the triggers' back.
    engine = create_engine(db)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER plantrail_access_log_no_update"))
        else:
            conn.execute(text("ALTER TABLE plantrail_access_log DISABLE TRIGGER USER"))
        conn.execute(
            text("UPDATE plantrail_access_log SET outcome = 'ok' WHERE outcome = 'denied'")
        )
    engine.dispose()
    tampered = plantrail("verify", "--json", db=db, keys=keys, check=False)
    assert tampered.returncode == 1
    found = json.loads(tampered.stdout)["access_log"]
    assert found["ok"] is False
    assert found["problems"][0]["kind"] == "edited"
    assert "access log" in plantrail("verify", db=db, keys=keys, check=False).stdout


def test_access_log_refuses_updates(store: tuple[str, Path]) -> None:
    db, keys = store
    add(store, "--name", "Dana Reyes", "--role", "clinician")
    service = open_service(db, keys)
    try:
        TestClient(create_app(service)).get("/me")
    finally:
        service.close()
        recorder_of(service).close()
    engine = create_engine(db)
    try:
        for statement in ("UPDATE plantrail_access_log SET status = 200",
                          "DELETE FROM plantrail_access_log"):  # fmt: skip
            with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_users_passwd_sets_an_argon2_password_the_pages_accept(store: tuple[str, Path]) -> None:
    from plantrail.projections.access.accounts import Accounts, passwords
    from plantrail.projections.store.engine import create_store_engine

    db, keys = store
    user = add(store, "--name", "Dana Reyes", "--role", "clinician")
    short = plantrail(
        "users", "passwd", user["user_id"], "--password-stdin", db=db, keys=keys,
        check=False, stdin="too short\n",
    )  # fmt: skip
    assert short.returncode != 0
    assert "password: must be at least 12 characters" in short.stderr
    assert len(short.stderr.strip().splitlines()) == 1
    done = plantrail(
        "users", "passwd", user["user_id"], "--password-stdin", db=db, keys=keys,
        stdin="correct horse battery\n",
    )  # fmt: skip
    assert f"password set for {user['user_id']}" in done.stdout
    unknown = plantrail(
        "users", "passwd", "nobody", "--password-stdin", db=db, keys=keys,
        check=False, stdin="correct horse battery\n",
    )  # fmt: skip
    assert unknown.returncode != 0
    assert "no user nobody" in unknown.stderr
    engine = create_store_engine(db)
    try:
        with engine.connect() as conn:
            [stored] = conn.execute(select(passwords.c.password_hash)).scalars().all()
        assert stored.startswith("$argon2id$")
        assert "correct horse battery" not in stored
        accounts = Accounts(engine)
        assert accounts.check_password(user["user_id"], "correct horse battery") is not None
        assert accounts.check_password(user["user_id"], "wrong horse battery") is None
        assert accounts.check_password("nobody", "correct horse battery") is None
        accounts.disable(user["user_id"])
        assert accounts.check_password(user["user_id"], "correct horse battery") is None
    finally:
        engine.dispose()
