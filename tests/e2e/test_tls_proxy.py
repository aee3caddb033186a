"""The deployment of docs/operations.md, for real: ``plantrail serve --workers 2 --secure-cookies
--forwarded-allow-ips 127.0.0.1`` behind nginx running ``docs/deploy/nginx-plantrail.conf`` (only
its ports, file paths and the scraper's address changed), over TLS with a certificate made here.

nginx runs as the test's own user with its own prefix, on free high ports: no root. When nginx is
not installed the test is skipped, and fails instead under ``PLANTRAIL_REQUIRE_NGINX=1`` (which
``.ci/run`` sets after installing it), so that CI never passes by skipping.

It runs on SQLite (two workers on one file) to stay quick; the same file in front of a
PostgreSQL-backed server was checked by hand (docs/operations.md, "How this guide was tested")."""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
import json
import os
import re
import shutil
import sqlite3
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.test_http_serve import cli, free_port, server

pytestmark = pytest.mark.slow

REQUIRE_ENV = "PLANTRAIL_REQUIRE_NGINX"
DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"
HOST = "plantrail.example.org"
SCRAPER = "127.0.0.2"
"""The Prometheus server's address in the test (192.0.2.10 in the shipped file): on Linux all
of 127.0.0.0/8 is the loopback, so a client can connect from it."""
BODY_LIMIT = 1_048_576  # Settings.max_body_bytes; the file's client_max_body_size 1m


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        reason = "nginx is not installed (apt-get install nginx)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1: the TLS proxy test may not be skipped)")
        pytest.skip(reason)
    return found


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for HOST and 127.0.0.1 and its key, as fullchain.pem and privkey.pem."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    chain, private = folder / "fullchain.pem", folder / "privkey.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    return chain, private


def substitute(text: str, old: str, new: str) -> str:
    """``text`` with every ``old`` replaced; the shipped file must still contain ``old``."""
    assert old in text, f"docs/deploy/nginx-plantrail.conf no longer contains {old!r}"
    return text.replace(old, new)


def site_config(folder: Path, *, app: int, http: int, https: int) -> str:
    """The shipped server blocks with only ports, paths and the scraper's address changed."""
    text = (DEPLOY / "nginx-plantrail.conf").read_text(encoding="utf-8")
    text = substitute(text, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app};")
    text = substitute(text, "    listen [::]:80;\n", "")
    text = substitute(text, "    listen [::]:443 ssl http2;\n", "")
    text = substitute(text, "listen 80;", f"listen 127.0.0.1:{http};")
    text = substitute(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;")
    text = substitute(text, "/etc/ssl/plantrail/", f"{folder}/")
    text = substitute(text, "/var/log/nginx/plantrail.access.log", str(folder / "access.log"))
    return substitute(text, "allow 192.0.2.10;", f"allow {SCRAPER};")


def main_config(folder: Path) -> str:
    """What /etc/nginx/nginx.conf gives the site on Debian, in a prefix of the test's own."""
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} info;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"{temp}"
        f"    access_log {folder / 'default-access.log'};\n"
        "    default_type application/octet-stream;\n"
        f"    include {folder / 'plantrail.conf'};\n"
        "}\n"
    )


@dataclass
class Deployment:
    base: str
    http_base: str
    cert: Path
    tokens: dict[str, str]
    store: Path
    nginx_log: Path
    serve_log: Path

    def client(self, *, local_address: str | None = None) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.cert))
        transport = httpx.HTTPTransport(verify=context, local_address=local_address)
        return httpx.Client(base_url=self.base, transport=transport, timeout=30)


def eventually_in(path: Path, text: str, seconds: float = 10.0) -> bool:
    """Whether ``text`` appears in the file ``path`` within ``seconds`` (a log written by
    another process after it answered)."""
    deadline = time.monotonic() + seconds
    while True:
        if text in path.read_text():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    nginx = nginx_binary()
    keys, store = tmp_path / "keys", tmp_path / "plantrail.db"
    env = {**os.environ, "PLANTRAIL_DATABASE_URL": f"sqlite:///{store}",
           "PLANTRAIL_KEY_DIR": str(keys)}  # fmt: skip
    cli("init", env=env)
    tokens = {
        who: json.loads(
            cli("users", "add", "--name", name, "--role", role, "--id", who, "--json", env=env)
        )["token"]
        for who, name, role in (
            ("metrics-scraper", "Prometheus scraper", "admin"),
            ("dana-reyes", "Dana Reyes", "clinician"),
        )
    }
    proxy = tmp_path / "nginx"
    proxy.mkdir()
    cert, _ = self_signed(proxy)
    app, http, https = free_port(), free_port(), free_port()
    (proxy / "plantrail.conf").write_text(site_config(proxy, app=app, http=http, https=https))
    (proxy / "nginx.conf").write_text(main_config(proxy))
    nginx_args = [nginx, "-p", str(proxy), "-c", str(proxy / "nginx.conf"),
                  "-e", str(proxy / "error.log")]  # fmt: skip
    checked = subprocess.run([*nginx_args, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    serve_log = tmp_path / "serve.log"
    args = ["--workers", "2", "--host", "127.0.0.1", "--port", str(app), "--secure-cookies",
            "--forwarded-allow-ips", "127.0.0.1", "--practice", "Riverside Counseling"]  # fmt: skip
    with server(args, env, serve_log) as serving:
        proxying = subprocess.Popen(
            [*nginx_args, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            found = Deployment(
                base=f"https://127.0.0.1:{https}", http_base=f"http://127.0.0.1:{http}",
                cert=cert, tokens=tokens, store=store, nginx_log=proxy / "access.log",
                serve_log=serve_log,
            )  # fmt: skip
            wait_ready(found, serving, proxying)
            yield found
        finally:
            proxying.terminate()
            proxying.wait(30)


def wait_ready(
    found: Deployment, serving: subprocess.Popen[str], proxying: subprocess.Popen[str]
) -> None:
    """Until /ready answers 200 through nginx (both processes are up and the store writes)."""
    deadline = time.monotonic() + 60
    with found.client() as client:
        while time.monotonic() < deadline:
            assert serving.poll() is None, found.serve_log.read_text()
            assert proxying.poll() is None, proxying.stderr.read() if proxying.stderr else ""
            try:
                if client.get("/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise AssertionError(
        "plantrail did not become ready behind nginx:\n" + found.serve_log.read_text()
    )


def access_rows(store: Path, action: str) -> list[sqlite3.Row]:
    with sqlite3.connect(store) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(
            "select * from plantrail_access_log where action = ? order by seq", (action,)
        ).fetchall()


def guard_of(html: str) -> str:
    found = re.search(r'name="guard" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def test_the_documented_proxy_in_front_of_two_workers(deployment: Deployment) -> None:
    with deployment.client() as client:
        # Liveness and readiness through TLS, with HSTS on every answer.
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        assert health.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"

        # The request id: the caller's is echoed; without one, nginx's reaches the app, comes
        # back on the answer and is on nginx's log line, which holds no path.
        echoed = client.get("/health", headers={"X-Request-ID": "proxy-check-7"})
        assert echoed.headers["x-request-id"] == "proxy-check-7"
        fresh = client.get("/ready").headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", fresh)
        log = deployment.nginx_log.read_text()
        assert f" {fresh}\n" in log
        assert "/ready" not in log
        assert "/health" not in log
        # The worker writes its log line after the answer is sent: wait for it, briefly.
        assert eventually_in(deployment.serve_log, fresh), deployment.serve_log.read_text()

        # A signed-in web page: the session cookie is Secure (and the sign-in form's too).
        form = client.get("/web/sign-in")
        assert "Secure" in form.headers["set-cookie"]
        signed = client.post(
            "/web/sign-in",
            data={"guard": guard_of(form.text), "token": deployment.tokens["dana-reyes"],
                  "next": "/web/"},
        )  # fmt: skip
        assert signed.status_code == 303, signed.text
        cookie = signed.headers.get_list("set-cookie")[0]
        assert cookie.startswith("plantrail_session=")
        assert "; Secure" in cookie
        assert "HttpOnly" in cookie
        assert client.get("/web/").status_code == 200
        [sign_in] = [
            r for r in access_rows(deployment.store, "web:sign-in") if r["method"] == "POST"
        ]
        assert sign_in["outcome"] == "ok"
        assert sign_in["client_address"] == "127.0.0.1"

        # /metrics is refused by nginx to anyone but the scraper's address, even with a token.
        scraper = {"Authorization": f"Bearer {deployment.tokens['metrics-scraper']}"}
        blocked = client.get("/metrics", headers=scraper)
        assert blocked.status_code == 403
        assert "nginx" in blocked.text, "refused by the proxy, not by the app"

        # A body over the app's limit is refused by nginx; one at the limit reaches the app.
        auth = {"Authorization": f"Bearer {deployment.tokens['dana-reyes']}",
                "Content-Type": "application/json"}  # fmt: skip
        over = client.post("/plans", content=b" " * (BODY_LIMIT + 1), headers=auth)
        assert over.status_code == 413
        at_limit = client.post("/plans", content=b" " * BODY_LIMIT, headers=auth)
        assert at_limit.status_code in (400, 422), at_limit.text
        assert at_limit.headers["content-type"].startswith("application/problem+json")

    # From the scraper's address, with an admin's token: the metrics, and the access log names
    # the address nginx saw (a forged X-Forwarded-For from the client is not believed).
    with deployment.client(local_address=SCRAPER) as client:
        scraped = client.get("/metrics", headers={**scraper, "X-Forwarded-For": "203.0.113.9"})
        assert scraped.status_code == 200
        assert "plantrail_http_requests_total" in scraped.text
        assert client.get("/metrics").status_code == 401
    [metrics] = [r for r in access_rows(deployment.store, "view:metrics") if r["outcome"] == "ok"]
    assert metrics["client_address"] == SCRAPER

    # Plain HTTP is sent to HTTPS.
    redirect = httpx.get(deployment.http_base + "/health", headers={"Host": HOST})
    assert redirect.status_code == 301
    assert redirect.headers["location"] == f"https://{HOST}/health"


def test_the_guide_shows_the_shipped_files_as_they_are() -> None:
    """docs/operations.md quotes each file of docs/deploy whole, so the guide a reader pastes
    from is the file this test runs."""
    guide = (DEPLOY.parent / "operations.md").read_text(encoding="utf-8")
    for name in ("nginx-plantrail.conf", "plantrail.service", "plantrail.cron"):
        assert (DEPLOY / name).read_text(encoding="utf-8") in guide, name
