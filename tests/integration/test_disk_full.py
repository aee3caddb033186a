"""A full disk under SQLite: a clear error, nothing acknowledged lost, the chain
clean, reads still served, and writes resume once space returns.

The store lives on a 512 KiB tmpfs mounted for the test (root is needed; if the mount is
refused the test is skipped and says why). Writes go on until one fails; the filesystem is then
grown with ``mount -o remount`` and the same service carries on.
"""

from __future__ import annotations

import gc
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select, text

from plantrail.domain import commands as c
from plantrail.domain.errors import StorageError
from plantrail.domain.service import CommandResult, PlanService
from plantrail.projections.assembly import open_service, recorder_of
from plantrail.projections.integrity.keys import load_chain_key
from plantrail.projections.integrity.verify import verify
from plantrail.projections.store.schema import events
from tests.support.clock import FakeClock
from tests.support.plans import meta, open_plan

MAX_WRITES = 2_000
"""A 512 KiB disk fills after a few hundred of these writes; more means the error never came."""


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, Callable[[str], None]]]:
    """A 512 KiB tmpfs and a function that resizes it; unmounted afterwards."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mountpoint))
    except (OSError, subprocess.CalledProcessError) as error:
        reason = getattr(error, "stderr", None) or str(error)
        pytest.skip(f"tmpfs mount not permitted: {reason.strip()}")

    def resize(size: str) -> None:
        _mount("-o", f"remount,size={size}", str(mountpoint))

    try:
        yield mountpoint, resize
    finally:
        _unmount(mountpoint)


def _unmount(mountpoint: Path) -> None:
    """Unmount the tmpfs, whatever the test left behind. Connections the test dropped without
    closing (an exception it kept refers to their frames) hold files open until the cycle
    collector runs, and a mount left busy would later make pytest fail while it deletes old
    temporary folders: collect first, and detach lazily as the last resort."""
    gc.collect()
    done = subprocess.run(["umount", str(mountpoint)], check=False, capture_output=True)
    if done.returncode != 0:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False, capture_output=True)


def stored_commands(service: PlanService, plan_id: UUID) -> dict[int, str]:
    with recorder_of(service).engine.connect() as conn:
        rows = conn.execute(
            select(events.c.originator_version, events.c.command_id).where(
                events.c.originator_id == plan_id
            )
        ).all()
    return {int(v): cid for v, cid in rows}


def assert_nothing_lost(
    service: PlanService, key_dir: Path, plan_id: UUID, acked: list[tuple[str, CommandResult]]
) -> None:
    """Versions 1..N, each acknowledged write at its version, the chain clean, the plan loads."""
    stored = stored_commands(service, plan_id)
    assert sorted(stored) == list(range(1, 2 + len(acked)))
    for command_id, result in acked:
        assert stored[result.version] == command_id
    key = load_chain_key(key_dir)
    assert key is not None
    report = verify(recorder_of(service), key)
    assert report.ok, report.problems
    state = service.load(plan_id)
    assert state.version == 1 + len(acked)
    assert len(state.strengths) == len(acked)


def note(n: int) -> c.NoteStrength:
    # Long enough to fill the disk in a few hundred writes, well under the 10,000-character cap.
    return c.NoteStrength(text=f"Session {n}: kept a mood diary every day. " + "Reflection. " * 300)


@pytest.mark.slow
def test_full_disk_is_a_clear_error_and_writes_resume_with_space(
    small_disk: tuple[Path, Callable[[str], None]], key_dir: Path, clock: FakeClock
) -> None:
    mountpoint, resize = small_disk
    url = f"sqlite:///{mountpoint / 'plantrail.db'}"
    service = open_service(url, key_dir, clock=clock)
    try:
        plan_id = open_plan(service)
        acked: list[tuple[str, CommandResult]] = []
        failure: StorageError | None = None
        failed: tuple[c.NoteStrength, c.CommandMeta] | None = None
        for n in range(MAX_WRITES):
            clock.advance(minutes=5)
            command, envelope = note(n), meta()
            try:
                result = service.execute(plan_id, command, envelope)
            except StorageError as error:
                failure, failed = error, (command, envelope)
                break
            acked.append((envelope.command_id, result))
        assert failure is not None, f"{MAX_WRITES} writes fitted on a 512 KiB disk"
        assert failed is not None
        failed_command, failed_meta = failed
        assert acked, "the disk was full before the first write"

        # A clear, one-line error that says what happened and that nothing was saved.
        assert "disk is full" in failure.message
        assert "nothing was saved" in failure.message
        assert "\n" not in failure.message
        assert service.store.find_command(failed_meta.command_id) is None
        assert failed_meta.command_id not in stored_commands(service, plan_id).values()

        # While full: reads are served, nothing acknowledged is lost, the chain is clean, and
        # further writes keep failing the same clean way without storing anything.
        assert_nothing_lost(service, key_dir, plan_id, acked)
        for n in range(3):
            with pytest.raises(StorageError, match="disk is full"):
                service.execute(plan_id, note(10_000 + n), meta())
        assert_nothing_lost(service, key_dir, plan_id, acked)

        # Space returns: the refused command goes through on retry with its own id, and new
        # writes are stored, on the same running service.
        resize("8m")
        result = service.execute(plan_id, failed_command, failed_meta)
        acked.append((failed_meta.command_id, result))
        for n in range(5):
            clock.advance(minutes=5)
            envelope = meta()
            acked.append(
                (envelope.command_id, service.execute(plan_id, note(20_000 + n), envelope))
            )
        assert_nothing_lost(service, key_dir, plan_id, acked)
    finally:
        service.close()
        recorder_of(service).close()

    # And from a fresh process's point of view: a new service on the file sees it all, and
    # SQLite finds the file sound.
    reopened = open_service(url, key_dir, clock=clock)
    try:
        assert_nothing_lost(reopened, key_dir, plan_id, acked)
        with recorder_of(reopened).engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        reopened.close()
        recorder_of(reopened).close()
    print(
        f"\ndisk full (sqlite, 512 KiB tmpfs): {len(acked) - 6} writes acknowledged before the "
        f"disk filled, 0 lost; error: {failure.message!r}; 6 writes stored after growing to 8 MiB"
    )


@pytest.mark.slow
def test_ready_is_503_on_a_full_disk_and_200_once_space_returns(
    small_disk: tuple[Path, Callable[[str], None]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``GET /ready`` on the same kind of full disk: 503 (problem, ``Retry-After``) naming the
    disk, while ``/health`` stays 200; ready again once the file system is grown."""
    from tests.support.http import practice

    mountpoint, resize = small_disk
    resize("2m")  # room for the users, the access log and the first plan
    monkeypatch.setenv("PLANTRAIL_READY_MIN_FREE_MB", "0.0625")  # 64 KiB
    url = f"sqlite:///{mountpoint / 'plantrail.db'}"
    with practice(url, tmp_path) as running:
        assert running.request(None, "GET", "/ready").status_code == 200
        plan_id = open_plan(running.service)
        for n in range(MAX_WRITES):
            running.clock.advance(minutes=5)
            try:
                running.service.execute(plan_id, note(n), meta())
            except StorageError:
                break
        else:
            pytest.fail(f"{MAX_WRITES} writes fitted on a 2 MiB disk")
        answer = running.request(None, "GET", "/ready")
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "1"
        assert answer.headers["content-type"] == "application/problem+json"
        checks = answer.json()["checks"]
        assert checks["disk"]["ok"] is False
        assert "disk" in answer.json()["detail"]
        assert running.request(None, "GET", "/health").status_code == 200
        resize("16m")
        again = running.request(None, "GET", "/ready")
        assert again.status_code == 200, again.text
        assert again.json()["checks"]["disk"]["ok"] is True
