"""The server side of figure 6: one uvicorn worker, pinned to one CPU, serving either
plantrail's HTTP app on a store, or a bare FastAPI endpoint that returns fixed bytes.

``python -m tests.benchmarks.http_server --mode bare --body FILE --port N [--cpu 0]``
``python -m tests.benchmarks.http_server --mode plantrail --url URL --keys DIR --port N``
"""

from __future__ import annotations

import argparse
import inspect
import os
from contextlib import suppress
from pathlib import Path
from typing import Any


def bare_app(body: bytes) -> Any:
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.get("/plans/{plan_id}")
    async def plan(plan_id: str) -> Response:
        return Response(content=body, media_type="application/json")

    return app


def plantrail_app(url: str, keys: Path) -> Any:
    """plantrail's app on ``url``; passes whatever ``create_app`` asks for by name."""
    from plantrail.api.server.app import create_app  # type: ignore[import-not-found]
    from plantrail.projections.assembly import open_service

    offered: dict[str, Any] = {
        "url": url,
        "database_url": url,
        "db": url,
        "key_dir": keys,
        "keys": keys,
        "keys_dir": keys,
    }
    wanted = inspect.signature(create_app).parameters
    if "service" in wanted:
        offered["service"] = open_service(url, keys)
    kwargs = {name: offered[name] for name in wanted if name in offered}
    return create_app(**kwargs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("bare", "plantrail"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path)
    parser.add_argument("--url")
    parser.add_argument("--keys", type=Path)
    parser.add_argument("--cpu", type=int)
    parser.add_argument(
        "--profile-name",
        help="profile the server (every thread) under this "
        "name until it stops; see tests/benchmarks/profiling.py",
    )
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    if args.mode == "bare":
        app = bare_app(args.body.read_bytes())
    else:
        os.environ["PLANTRAIL_DATABASE_URL"] = args.url
        os.environ["PLANTRAIL_KEY_DIR"] = str(args.keys)
        app = plantrail_app(args.url, args.keys)
    import uvicorn

    def serve() -> None:
        uvicorn.run(
            app, host="127.0.0.1", port=args.port, workers=1, log_level="warning", access_log=False
        )

    if args.profile_name:
        from tests.benchmarks import profiling

        # Stopped with SIGINT: uvicorn shuts down gracefully, then re-raises the signal, which
        # Python turns into KeyboardInterrupt, so the report below is still written.
        with profiling.every_thread(cpu=True) as profiles, suppress(KeyboardInterrupt):
            serve()
        profiling.write(
            profiles,
            args.profile_name,
            note="figure 6: the plantrail server under the figure's load, "
            "CPU time of every thread (time.thread_time)",
        )
    else:
        serve()


if __name__ == "__main__":
    main()
