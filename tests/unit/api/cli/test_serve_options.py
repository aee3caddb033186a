"""What ``plantrail serve`` hands uvicorn: forwarded headers trusted only from the proxies the
operator names (none by default), and the request log without query strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from plantrail.api.cli.main import app, register
from plantrail.projections.assembly import open_service, recorder_of
from plantrail.projections.integrity.keys import create_keys


def _served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *options: str) -> dict[str, Any]:
    import uvicorn

    keys = tmp_path / "keys"
    create_keys(keys)
    url = f"sqlite:///{tmp_path / 'plantrail.db'}"
    service = open_service(url, keys)
    service.close()
    recorder_of(service).close()
    register()
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *_, **kwargs: seen.update(kwargs))
    for name in (
        "PLANTRAIL_DATABASE_URL", "PLANTRAIL_KEY_DIR", "FORWARDED_ALLOW_IPS",
        "PLANTRAIL_LOG_FORMAT", "PROMETHEUS_MULTIPROC_DIR",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(
        app, ["serve", "--db", url, "--keys", str(keys), *options], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return seen


def test_forwarded_headers_are_trusted_from_no_one_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _served(tmp_path, monkeypatch)
    assert seen["proxy_headers"] is False
    assert seen["forwarded_allow_ips"] == ""
    # JSON lines by default; uvicorn's own request line (the path as sent) is off.
    config = seen["log_config"]
    assert config["formatters"]["json"]["()"].endswith("JsonLines")
    assert config["loggers"]["uvicorn.access"]["handlers"] == []


def test_human_log_lines_keep_the_request_line_without_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _served(tmp_path, monkeypatch, "--log-format", "human")
    assert seen["log_config"]["handlers"]["access"]["filters"] == ["request_line"]


def test_forwarded_headers_are_trusted_from_the_named_proxies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _served(tmp_path, monkeypatch, "--forwarded-allow-ips", "10.0.0.5")
    assert seen["proxy_headers"] is True
    assert seen["forwarded_allow_ips"] == "10.0.0.5"
