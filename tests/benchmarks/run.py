"""The benchmark command.

    python -m tests.benchmarks.run [--quick] [--sizes 1000,10000] [--plan-sizes 100,1000,10000]
                                   [--backend sqlite|postgresql|both] [--rounds N]
                                   [--only 1,2,3,4,5,6,7,8,9,10,11] [--out bench-results/]
                                   [--profile] [--soak MINUTES]

Generates its data, measures every figure and its baseline back to back in each round, and
writes ``bench-results/bench-<time>.json`` and ``.md`` (plus ``latest.json`` / ``latest.md``):
per figure the median, min and max over the rounds, the baseline's median, and the median of
the per-round ratios. ``--sizes`` are caseload sizes in plans (figure 4; figure 5 imports the
smallest), ``--plan-sizes`` events per plan (growth of figures 2 and 3). PostgreSQL is reached
at ``PLANTRAIL_BENCH_DATABASE_URL`` (default postgresql://postgres@127.0.0.1:5432/test); a
database is created for the run and dropped after it. ``--soak MINUTES`` (default 10) sets the
length of figure 9, the soak; ``--quick`` leaves the soak out unless ``--only`` names 9.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tests.benchmarks import (
    fig1_commands,
    fig2_as_of,
    fig3_copy_forward,
    fig4_rebuild,
    fig5_import,
    fig6_http,
    fig7_pages,
    fig8_packet,
    fig9_soak,
    fig10_audit_request,
    fig11_forms,
    profiling,
)
from tests.benchmarks.harness import BACKENDS, Figure, Stores, log

QUICK: dict[str, Any] = {
    "rounds": 3,
    "commands": 80,
    "calls": 15,
    "plan_sizes": [100, 1000],
    "sizes": [50, 150],
    "import_plans": 60,
    "seconds": 1.0,
    "heavy_rounds": 2,
    "audit_events": 100,
}
FULL: dict[str, Any] = {
    "rounds": 5,
    "commands": 300,
    "calls": 50,
    "plan_sizes": [100, 1000, 10_000],
    "sizes": [1000, 10_000],
    "import_plans": 1000,
    "seconds": 8.0,
    "heavy_rounds": 3,
    "audit_events": 1000,
}


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    parser.add_argument("--sizes", type=_ints, help="caseload sizes in plans (figures 4, 5)")
    parser.add_argument("--plan-sizes", type=_ints, help="events per plan (figures 2, 3)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--only", type=_ints, help="figure numbers to run, e.g. 1,2")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after each figure's timed rounds, one untimed run under cProfile; "
        "reports go to OUT/profile-<figure>-<store>.txt",
    )
    parser.add_argument(
        "--soak",
        type=float,
        default=10.0,
        metavar="MINUTES",
        help="length of figure 9, the soak under a steady mixed load (default 10; "
        "not part of --quick unless --only names 9)",
    )
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 2**20, 1)
        info["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        pass
    try:
        import psycopg

        from tests.benchmarks.harness import raw_connect

        info["psycopg"] = psycopg.__version__
        url = (
            os.environ.get("PLANTRAIL_BENCH_DATABASE_URL")
            or "postgresql://postgres@127.0.0.1:5432/test"
        )
        with raw_connect(url) as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as error:
        info["postgresql"] = f"unreachable ({type(error).__name__})"
    return info


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.2f}" if unit == "ms" or abs(value) < 10 else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def markdown(figures: list[Figure], meta: dict[str, Any]) -> str:
    lines = [
        f"# plantrail benchmarks, {meta['started']} ({meta['mode']})",
        "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine'].get('nproc')} CPUs ({meta['machine'].get('cpu', '?')}), "
        f"{meta['machine'].get('memory_gb', '?')} GB, Python {meta['machine']['python']}, "
        f"SQLite {meta['machine']['sqlite']}, PostgreSQL {meta['machine'].get('postgresql')}; "
        f"load average at start {' '.join(meta['machine'].get('loadavg_at_start', []))}  ",
        f"Rounds per figure: {meta['rounds']}; value = median of rounds [min–max]; ratio = "
        "median of per-round ratios; duration "
        f"{meta['seconds']:.0f} s.",
        "",
        "| fig | store | measurement | median [min–max] | baseline | baseline median | ratio |"
        " goal | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        if not f.values:
            lines.append(
                f"| {f.figure} | {f.backend} | {f.title} | – | | | | {f.goal} | {f.notes} |"
            )
            continue
        value = f"{_fmt(f.median, f.unit)} [{_fmt(min(f.values))}–{_fmt(max(f.values))}]"
        ratio = f"{f.ratio:,.2f} {f.ratio_label}" if f.ratio is not None else "–"
        met = {True: "**yes**", False: "**no**", None: ""}[f.met]
        lines.append(
            f"| {f.figure} | {f.backend} | {f.title} | {value} | {f.baseline} | "
            f"{_fmt(f.baseline_median, f.baseline_unit)} | {ratio} | {f.goal} | {met} |"
        )
    lines += ["", "Notes:", ""]
    lines += [f"- {f.figure} {f.backend}, {f.title}: {f.notes}" for f in figures if f.notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    config = dict(QUICK if args.quick else FULL)
    if args.rounds:
        config["rounds"] = args.rounds
    if args.sizes:
        config["sizes"] = args.sizes
        config["import_plans"] = min(args.sizes)
    if args.plan_sizes:
        config["plan_sizes"] = args.plan_sizes
    only = set(args.only or ([1, 2, 3, 4, 5, 6, 7, 8, 10, 11] if args.quick else range(1, 12)))
    config["soak_minutes"] = args.soak
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    if args.profile:
        os.environ[profiling.ENV] = str(args.out.resolve())
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    meta: dict[str, Any] = {
        "started": stamp,
        "mode": "quick" if args.quick else "full",
        "command": "python -m tests.benchmarks.run "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "config": config,
        "rounds": config["rounds"],
    }
    log(f"benchmarks ({meta['mode']}) on {', '.join(backends)}: {config}")
    figures: list[Figure] = []
    rounds = config["rounds"]
    plan_sizes = config["plan_sizes"]
    heavy = config["heavy_rounds"]
    work: list[tuple[int, Callable[[Stores], list[Figure]]]] = [
        (1, lambda s: fig1_commands.run(s, rounds=rounds, commands=config["commands"])),
        (
            2,
            lambda s: fig2_as_of.run(
                s, rounds=rounds, calls=config["calls"], sizes=sorted({*plan_sizes, 1000})
            ),
        ),
        (
            3,
            lambda s: fig3_copy_forward.run(
                s, rounds=rounds, calls=config["calls"], sizes=plan_sizes
            ),
        ),
        (4, lambda s: fig4_rebuild.run(s, rounds=min(rounds, heavy), sizes=config["sizes"])),
        (5, lambda s: fig5_import.run(s, rounds=rounds, plans=config["import_plans"])),
        (6, lambda s: fig6_http.run(s, rounds=min(rounds, heavy), seconds=config["seconds"])),
        (7, lambda s: fig7_pages.run(s, rounds=rounds, calls=config["calls"])),
        (8, lambda s: fig8_packet.run(s, rounds=rounds, calls=max(3, config["calls"] // 5))),
        (9, lambda s: fig9_soak.run(s, minutes=args.soak)),
        (
            10,
            lambda s: fig10_audit_request.run(
                s, rounds=min(rounds, heavy), events=config["audit_events"]
            ),
        ),
        (11, lambda s: fig11_forms.run(s, rounds=rounds, calls=max(40, config["calls"]))),
    ]
    with tempfile.TemporaryDirectory(prefix="plantrail-bench-") as tmp:
        for backend in backends:
            with Stores(backend, Path(tmp) / backend) as stores:
                for number, bench in work:
                    if number not in only:
                        continue
                    log(f"figure {number} on {backend}")
                    try:
                        figures.extend(bench(stores))
                    except Exception as error:
                        traceback.print_exc()
                        figures.append(
                            Figure(
                                str(number),
                                f"figure {number}",
                                backend,
                                "",
                                [],
                                notes=f"failed: {type(error).__name__}: {error}",
                            )
                        )
    meta["seconds"] = time.perf_counter() - started
    order = {"sqlite": 0, "postgresql": 1}
    figures.sort(key=lambda f: (f.figure.rstrip("rgpbsul"), order.get(f.backend, 2)))
    args.out.mkdir(parents=True, exist_ok=True)
    body = {"meta": meta, "figures": [f.as_dict() for f in figures]}
    text = markdown(figures, meta)
    for name in (f"bench-{stamp}", "latest"):
        options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        (args.out / f"{name}.json").write_bytes(orjson.dumps(body, option=options))
        (args.out / f"{name}.md").write_text(text)
    print(text)
    missed = [f for f in figures if f.met is False]
    log(
        f"done in {meta['seconds']:.0f} s; {len(missed)} goal(s) missed; "
        f"written to {args.out}/bench-{stamp}.json and .md"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
