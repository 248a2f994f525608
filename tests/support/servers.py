"""Real servers started by the tests on free loopback ports, with temporary data folders."""

from __future__ import annotations

import base64
import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def terminate(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a server process: SIGTERM (it saves its state), SIGKILL after 10 s."""
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: run scripts/setup.sh --test (installs postgresql)")
    return path


class PostgresServer:
    """A throwaway PostgreSQL cluster on a free loopback port; stoppable and restartable.

    initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user on a
    folder it owns.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hub-pg-"))
        self.data, sock = self.root / "data", self.root / "sock"
        sock.mkdir()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            os.chown(sock, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self._opts = f"-p {self.port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                *self.prefix,
                _pg_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        log = self.root / "server.log"
        subprocess.run(
            [
                *self.prefix,
                _pg_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(log),
                "-o",
                self._opts,
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, _pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A running throwaway PostgreSQL; yields its SQLAlchemy URL."""
    server = PostgresServer()
    server.start()
    try:
        yield server.url
    finally:
        server.remove()


class InfluxServer:
    """Debian's influxd (1.x) on loopback ports with a temporary data folder; stoppable."""

    ADMIN = ("admin", "admin-secret")  # with auth: the first user, created at start

    def __init__(self, root: Path, *, max_body: int = 25_000_000, auth: bool = False) -> None:
        self.root = root
        self.port = free_port()
        self.rpc_port = free_port()
        self.database = "hub"
        self.auth = auth
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = root / "influxdb.conf"
        self.config.write_text(
            f"""reporting-enabled = false
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = {"true" if auth else "false"}
  log-enabled = false
  max-body-size = {max_body}
[logging]
  level = "warn"
  suppress-logo = true
[continuous_queries]
  enabled = false
"""
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("influxd") or "/usr/bin/influxd"
        if not os.path.exists(binary):
            raise RuntimeError("influxd not found: run scripts/setup.sh --test (installs influxdb)")
        log = open(self.root / "influxd.log", "ab")  # noqa: SIM115 (lives as long as the process)
        self.proc = subprocess.Popen([binary, "-config", str(self.config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=1) as r:
                    if r.status == 204:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise TimeoutError("influxd did not answer /ping")
        if self.auth:  # 1.x lets anyone create the first user, an admin; then asks for it
            user, password = self.ADMIN
            self.query(f"CREATE USER {user} WITH PASSWORD '{password}' WITH ALL PRIVILEGES")
        self.query(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        terminate(self.proc)
        self.proc = None

    def query(self, q: str, database: str | None = None) -> list[dict[str, object]]:
        """Run InfluxQL; returns the result's series (empty when none)."""
        db = database or self.database
        data = urllib.parse.urlencode({"q": q, "db": db, "epoch": "u"}).encode()
        request = urllib.request.Request(f"{self.url}/query", data)
        if self.auth:
            token = base64.b64encode(":".join(self.ADMIN).encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as r:
            body = json.loads(r.read())
        result = body["results"][0]
        if "error" in result:
            raise RuntimeError(result["error"])
        series: list[dict[str, object]] = result.get("series", [])
        return series

    def new_database(self, name: str) -> dict[str, str]:
        """Create a database; the InfluxConfig fields that point a store at it."""
        self.query(f'CREATE DATABASE "{name}"')
        return {"database": name}

    def count(self, measurement: str, field: str = "value", database: str | None = None) -> int:
        series = self.query(f'SELECT COUNT("{field}") FROM "{measurement}"', database)
        return int(series[0]["values"][0][1]) if series else 0  # type: ignore[index]


@contextlib.contextmanager
def influx_server(*, max_body: int = 25_000_000, auth: bool = False) -> Iterator[InfluxServer]:
    """A running InfluxDB 1.x with database "hub" (with `auth`: authentication on, and an
    admin user the helper's own queries use); stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="hub-influx-"))
    server = InfluxServer(root, max_body=max_body, auth=auth)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


class Influx2Target:
    """An InfluxDB 2.x server someone runs elsewhere, named by environment variables.

    HUB_TEST_INFLUX2_URL, HUB_TEST_INFLUX2_TOKEN (an all-access token), HUB_TEST_INFLUX2_ORG.
    Each test gets its own bucket and a DBRP mapping so InfluxQL on /query reaches it; the
    store writes through the v2 API (influxdb-client).
    """

    def __init__(self, url: str, token: str, org: str) -> None:
        self.url, self.token, self.org = url.rstrip("/"), token, org
        self.database = "hub"

    def _api(
        self, method: str, path: str, body: dict[str, object] | None = None
    ) -> dict[str, object]:
        req = urllib.request.Request(
            f"{self.url}{path}",
            json.dumps(body).encode() if body is not None else None,
            {"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            out: dict[str, object] = json.loads(r.read() or b"{}")
            return out

    def new_database(self, name: str) -> dict[str, str]:
        orgs = self._api("GET", f"/api/v2/orgs?org={urllib.parse.quote(self.org)}")["orgs"]
        org_id = orgs[0]["id"]  # type: ignore[index]
        bucket = self._api(
            "POST", "/api/v2/buckets", {"orgID": org_id, "name": name, "retentionRules": []}
        )
        self._api(
            "POST",
            "/api/v2/dbrps",
            {
                "orgID": org_id,
                "bucketID": bucket["id"],
                "database": name,
                "retention_policy": "autogen",
                "default": True,
            },
        )
        return {"api": "v2", "token": self.token, "org": self.org, "bucket": name, "database": name}

    def query(self, q: str, database: str | None = None) -> list[dict[str, object]]:
        data = urllib.parse.urlencode({"q": q, "db": database or self.database, "epoch": "u"})
        req = urllib.request.Request(
            f"{self.url}/query", data.encode(), {"Authorization": f"Token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            result = json.loads(r.read())["results"][0]
        if "error" in result:
            raise RuntimeError(result["error"])
        series: list[dict[str, object]] = result.get("series", [])
        return series

    def count(self, measurement: str, field: str = "value", database: str | None = None) -> int:
        series = self.query(f'SELECT COUNT("{field}") FROM "{measurement}"', database)
        return int(series[0]["values"][0][1]) if series else 0  # type: ignore[index]


@contextlib.contextmanager
def influx_target() -> Iterator[InfluxServer | Influx2Target]:
    """The InfluxDB the query/write tests use: a 2.x server when HUB_TEST_INFLUX2_URL is set,
    else Debian's 1.x started here."""
    url = os.environ.get("HUB_TEST_INFLUX2_URL")
    if url:
        yield Influx2Target(
            url, os.environ["HUB_TEST_INFLUX2_TOKEN"], os.environ["HUB_TEST_INFLUX2_ORG"]
        )
        return
    with influx_server() as server:
        yield server


class MosquittoServer:
    """Debian's mosquitto on a loopback port, with persistence and no cap on queued messages
    (its default of 1,000 silently drops a persistent session's backlog); stoppable."""

    def __init__(self, root: Path, users: dict[str, str] | None = None, tls: bool = False) -> None:
        self.root = root
        self.port = free_port()
        self.ca_file: Path | None = None  # with TLS: the CA that signed the broker's certificate
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = root / "mosquitto.conf"
        auth = "allow_anonymous true"
        if users:  # password authentication, as the production broker runs
            passwd = root / "passwd"
            passwd.touch()
            for user, password in users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwd), user, password],
                    check=True,
                    capture_output=True,
                )
            if os.geteuid() == 0:
                with contextlib.suppress(KeyError):
                    pw = pwd.getpwnam("mosquitto")
                    os.chown(passwd, pw.pw_uid, pw.pw_gid)
            auth = f"allow_anonymous false\npassword_file {passwd}"
        listener = ""
        if tls:
            self.ca_file = make_certificates(root)
            listener = (
                f"cafile {self.ca_file}\ncertfile {root}/server.crt\nkeyfile {root}/server.key\n"
            )
        self.config.write_text(
            f"""listener {self.port} 127.0.0.1
{listener}{auth}
persistence true
persistence_location {root}/
autosave_interval 1
max_queued_messages 0
max_inflight_messages 1000
log_dest file {root}/mosquitto.log
"""
        )

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(binary):
            raise RuntimeError("mosquitto not found: run scripts/setup.sh --test")
        self.proc = subprocess.Popen(
            [binary, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, 15)

    def stop(self) -> None:
        terminate(self.proc)  # SIGTERM: mosquitto saves its persistence file
        self.proc = None


def make_certificates(folder: Path) -> Path:
    """A site CA and a certificate for 127.0.0.1 signed by it (openssl); returns the CA's file."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test site CA",
        "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName = IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt")  # fmt: skip
    if os.geteuid() == 0:  # mosquitto reads its key as the mosquitto user
        with contextlib.suppress(KeyError):
            pw = pwd.getpwnam("mosquitto")
            for name in ("server.key", "server.crt", "ca.crt"):
                os.chown(folder / name, pw.pw_uid, pw.pw_gid)
    return folder / "ca.crt"


@contextlib.contextmanager
def mosquitto_server(
    users: dict[str, str] | None = None, tls: bool = False
) -> Iterator[MosquittoServer]:
    """A running Mosquitto (password authentication when `users` are given; TLS with a
    test CA, `server.ca_file`, when `tls`)."""
    root = Path(tempfile.mkdtemp(prefix="hub-mqtt-"))
    if os.geteuid() == 0:  # mosquitto drops root privileges to the mosquitto user
        with contextlib.suppress(KeyError):
            pw = pwd.getpwnam("mosquitto")
            os.chown(root, pw.pw_uid, pw.pw_gid)
    server = MosquittoServer(root, users, tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
