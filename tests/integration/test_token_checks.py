"""Authentication remembers only the Argon2 verification: the token and user rows are read on
every check, so a revoked token or a disabled user is refused on the very next request, and
concurrent first uses of one token cost one Argon2 verification, not one each."""

from __future__ import annotations

import threading
from typing import Any

from argon2 import PasswordHasher

from plantrail.domain.service import PlanService
from plantrail.projections.access.accounts import Accounts
from plantrail.projections.assembly import recorder_of


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verifications = 0
        self._guard = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:
        with self._guard:
            self.verifications += 1
        return super().verify(hash, password)


def accounts_of(service: PlanService, hasher: PasswordHasher) -> Accounts:
    found = Accounts(recorder_of(service).engine, hasher=hasher)
    found.create_tables()
    return found


def test_revocation_and_disabling_apply_to_the_next_check(service: PlanService) -> None:
    hasher = CountingHasher()
    accounts = accounts_of(service, hasher)
    _, token = accounts.add_user(name="Dana Reyes", role="clinician")
    assert accounts.authenticate(token) is not None
    assert accounts.authenticate(token) is not None
    assert hasher.verifications == 1  # the second check compared digests only

    newer = accounts.issue_token("dana-reyes")  # revokes the first token
    assert accounts.authenticate(token) is None
    assert accounts.authenticate(newer) is not None

    accounts.disable("dana-reyes")
    assert accounts.authenticate(newer) is None
    accounts.close()


def test_another_process_revoking_is_seen_at_once(service: PlanService) -> None:
    hasher = CountingHasher()
    ours = accounts_of(service, hasher)
    theirs = accounts_of(service, hasher)  # e.g. `plantrail users` in another process
    _, token = ours.add_user(name="Dana Reyes", role="clinician")
    assert ours.authenticate(token) is not None
    theirs.issue_token("dana-reyes")
    assert ours.authenticate(token) is None
    ours.close()
    theirs.close()


def test_a_wrong_secret_is_refused_even_when_the_token_is_known(service: PlanService) -> None:
    accounts = accounts_of(service, CountingHasher())
    _, token = accounts.add_user(name="Dana Reyes", role="clinician")
    assert accounts.authenticate(token) is not None
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert accounts.authenticate(forged) is None
    accounts.close()


def test_concurrent_first_uses_verify_once(service: PlanService) -> None:
    hasher = CountingHasher()
    accounts = accounts_of(service, hasher)
    _, token = accounts.add_user(name="Dana Reyes", role="clinician")
    found: list[Any] = []
    start = threading.Barrier(8)

    def check() -> None:
        start.wait()
        found.append(accounts.authenticate(token))

    threads = [threading.Thread(target=check) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8
    assert all(p is not None and p.user_id == "dana-reyes" for p in found)
    assert hasher.verifications == 1
    accounts.close()
