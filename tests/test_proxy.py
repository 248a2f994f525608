"""The production proxy: deploy/nginx/hub.conf run by Debian's nginx in front of `hub run`,
with a self-signed certificate standing in for the operator's. HTTPS serves the pages with the
hub's security headers and HSTS, plain HTTP only redirects, the live websocket passes, and no
credential carried in a URL reaches either access log."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
import websockets

from tests.conftest import DEMO_SITE, ROOT
from tests.support.certs import self_signed
from tests.support.servers import free_port, terminate, wait_for_port

PASSWORD = "proxy test password"


class Stack:
    """`hub run` on a loopback port behind nginx with the production configuration."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hub_port, self.http, self.https = free_port(), free_port(), free_port()
        self.ca, _ = self_signed(root / "certs")
        conf = (ROOT / "deploy" / "nginx" / "hub.conf").read_text()
        conf = (
            conf.replace("server hub:8000;", f"server 127.0.0.1:{self.hub_port};")
            .replace("listen 80;", f"listen 127.0.0.1:{self.http};")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https} ssl http2;")
            .replace("/etc/nginx/certs/", f"{root}/certs/")
            .replace("/var/log/nginx/", f"{root}/")
        )
        (root / "hub.conf").write_text(conf)
        (root / "nginx.conf").write_text(
            f"pid {root}/nginx.pid;\nerror_log {root}/error.log;\nuser root;\n"
            "events {}\n"
            f"http {{ include /etc/nginx/mime.types; client_body_temp_path {root}/body; "
            f"proxy_temp_path {root}/proxy; include {root}/hub.conf; }}\n"
        )
        self.env = {
            **os.environ,
            "HUB_DATA_DIR": str(root / "data"),
            "HUB_SECRET_KEY": "p" * 48,
            "HUB_ADMIN_PASSWORD": PASSWORD,
        }
        self.hub_log = root / "hub.log"
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        with self.hub_log.open("wb") as log:
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "hub",
                        "run",
                        "-c",
                        str(DEMO_SITE),
                        "--port",
                        str(self.hub_port),
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for_port(self.hub_port, 60)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.procs.append(
            subprocess.Popen([nginx, "-c", str(self.root / "nginx.conf"), "-g", "daemon off;"])
        )
        wait_for_port(self.https, 15)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            terminate(proc)

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    def get(self, path: str, **headers: str) -> tuple[int, Message, bytes]:
        ask = urllib.request.Request(f"https://localhost:{self.https}{path}", headers=headers)
        try:
            with urllib.request.urlopen(ask, context=self.tls(), timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        pytest.fail("nginx is missing: run scripts/setup.sh --test")
    s = Stack(tmp_path)
    s.start()
    yield s
    s.stop()


@pytest.mark.timeout(120)
def test_the_hub_behind_the_production_proxy(stack: Stack) -> None:
    status, headers, _ = stack.get("/wall.html")
    assert status == 200
    assert "max-age=" in headers["Strict-Transport-Security"]  # the hub saw https
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "nginx/" not in (headers["Server"] or "")  # no version shown
    plain = urllib.request.Request(f"http://127.0.0.1:{stack.http}/wall.html?x=1")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    with pytest.raises(urllib.error.HTTPError) as moved:
        urllib.request.build_opener(NoRedirect).open(plain, timeout=10)
    assert moved.value.code == 301
    assert moved.value.headers["Location"].startswith("https://")

    # sign in through the proxy, then the live feed over wss
    form = f"username=admin&password={PASSWORD}".encode()
    ask = urllib.request.Request(f"https://localhost:{stack.https}/api/auth/token", data=form)
    with urllib.request.urlopen(ask, context=stack.tls(), timeout=10) as r:
        token = json.loads(r.read())["access_token"]

    async def snapshot() -> str:
        url = f"wss://localhost:{stack.https}/ws?token={token}"
        async with websockets.connect(url, ssl=stack.tls(), open_timeout=10) as ws:
            return str(json.loads(await asyncio.wait_for(ws.recv(), 10))["type"])

    assert asyncio.run(snapshot()) == "snapshot"
    # a key in a URL, as trackers send it: in neither access log
    stack.get("/api/osmand?key=dyh_0123456789ab_topsecretkeyvalue&id=x&lat=1&lon=1")
    stack.get(f"/api/calendars/me.ics?token={token}")
    big = urllib.request.Request(
        f"https://localhost:{stack.https}/api/auth/token", data=b"x" * (14 * 1024 * 1024)
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(big, context=stack.tls(), timeout=30)
    assert refused.value.code == 413
    time.sleep(0.5)  # the logs are written
    proxy_log = (stack.root / "access.log").read_text()
    hub_log = stack.hub_log.read_text()
    assert "/api/osmand" in proxy_log
    assert "GET /api/osmand" in hub_log or "/api/osmand" in hub_log
    for log in (proxy_log, hub_log):
        assert "topsecretkeyvalue" not in log
        assert token not in log
