"""``--profile``: one extra, untimed run of each figure's measured call under cProfile.

The timed rounds never run under the profiler (it slows Python calls several-fold, and unevenly).
After them, a figure hands its call to ``profiled``, which writes, per figure and store:

- ``profile-<figure>-<store>.txt``: the 30 functions with the most time of their own, then
  the 30 with the most cumulative time;
- ``profile-<figure>-<store>.pstats``: the raw statistics, for ``python -m pstats`` or snakeviz.

Work in other threads is included: every thread started while profiling gets a profiler of
its own, merged into the report (the HTTP server's worker threads, the access-log writer).
Forked helper processes are not: their share shows as the parent waiting for them.

The figures run in one thread are timed by the wall clock, so waits for the disk or the
database show. The HTTP server is timed by each thread's CPU clock (``time.thread_time``):
with a wall clock its idle worker threads, blocked on their queues, and threads waiting for
the GIL would fill the report.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENV = "PLANTRAIL_BENCH_PROFILE"
"""Folder the profiles go to; set by ``run.py --profile`` so that server processes see it too."""

TOP = 30


def folder() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


@contextmanager
def every_thread(*, cpu: bool = False) -> Iterator[list[cProfile.Profile]]:
    """Profile this thread and every thread started inside the block; ``cpu`` times each by
    its own CPU clock instead of the wall clock."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    timer = time.thread_time if cpu else time.perf_counter

    def start(frame: Any, event: str, arg: Any) -> None:
        # Called once in each new thread: swap this hook for a profiler of the thread's own.
        profile = cProfile.Profile(timer)
        with lock:
            profiles.append(profile)
        sys.setprofile(None)
        profile.enable()

    main = cProfile.Profile(timer)
    profiles.append(main)
    threading.setprofile(start)
    main.enable()
    try:
        yield profiles
    finally:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]


def write(profiles: list[cProfile.Profile], name: str, *, note: str = "") -> Path:
    """Merge ``profiles`` and write the report as ``profile-<name>.txt`` (and ``.pstats``)."""
    out = folder()
    assert out is not None
    out.mkdir(parents=True, exist_ok=True)
    stats = pstats.Stats(profiles[0])
    for other in profiles[1:]:
        try:
            stats.add(other)
        except TypeError:  # a thread that never made a call has no statistics
            continue
    stats.dump_stats(str(out / f"profile-{name}.pstats"))
    text = io.StringIO()
    if note:
        text.write(note.rstrip() + "\n\n")
    stats.stream = text  # type: ignore[attr-defined]
    stats.strip_dirs().sort_stats("tottime").print_stats(TOP)
    stats.sort_stats("cumulative").print_stats(TOP)
    path = out / f"profile-{name}.txt"
    path.write_text(text.getvalue())
    return path


def profiled(name: str, call: Callable[[], Any], *, note: str = "") -> None:
    """Run ``call`` once under the profiler and write its report, if ``--profile`` is on."""
    if folder() is None:
        return
    with every_thread() as profiles:
        call()
    path = write(profiles, name, note=note)
    print(f"  profile written to {path}", flush=True)
