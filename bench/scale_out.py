"""Scale-out: location ingest through two hub worker processes beside one, same run.

The production topology on one machine (docs/deployment.md): Mosquitto, PostgreSQL, InfluxDB
(Debian's 1.6) and `hub run` workers with a shared subscription (`HUB_MQTT__SHARED_GROUP`)
and the cluster relay on (`HUB_MQTT__RELAY`: each worker also publishes what it took in and
takes in what the other published, for its live view and the leader's rules). A device fleet
in its own process publishes N QoS 1 OwnTracks fixes as fast as the broker takes them; the
figure is the rate at which the workers acknowledge them (each one stored first). Baseline:
the same with one worker. Also printed: the hub processes' CPU seconds per 10,000 messages,
which shows what the relay costs whatever the number of cores.

    python bench/scale_out.py [--quick]
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import ROOT, parse, result
from ingest import _packet, _utf8, fix

from tests.support.servers import free_port, influx_server, mosquitto_server, postgres_server

DEMO_SITE = ROOT / "hub" / "demo" / "site.yaml"
TICKS = os.sysconf("SC_CLK_TCK")


def health(port: int, key: str) -> dict[str, Any]:
    """A worker's components, read with an administrator's key."""
    try:
        url = f"http://127.0.0.1:{port}/api/health"
        with urllib.request.urlopen(
            urllib.request.Request(url, headers={"X-API-Key": key}), timeout=5
        ) as r:
            body: dict[str, Any] = json.loads(r.read())
            return body["components"]  # type: ignore[no-any-return]
    except OSError:
        return {}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def run(
    workers: int, env: dict[str, str], broker_port: int, n: int, tag: str, servers: list[int]
) -> dict[str, float]:
    """Start `workers` hub processes, publish n fixes, time their acknowledgement; CPU of
    the hubs and of the servers (pids) per 10,000 messages."""
    procs: list[tuple[subprocess.Popen[bytes], int]] = []
    key = subprocess.run(
        [sys.executable, "-m", "hub", "key", "add", f"health-{tag}", "--role", "admin"],
        cwd=ROOT,
        env={**env, "HUB_DATA_DIR": tempfile.mkdtemp(prefix=f"bench-key-{tag}-")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for w in range(workers):
        port = free_port()
        folder = tempfile.mkdtemp(prefix=f"bench-worker-{tag}-{w}-")
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "-c", str(DEMO_SITE), "--port", str(port)],
            cwd=ROOT,
            env={**env, "HUB_DATA_DIR": folder, "HUB_MQTT__CLIENT_ID": f"bench-{tag}-{w}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append((proc, port))
    try:
        deadline = time.monotonic() + 120
        while not all(health(p, key).get("mqtt_ingest", {}).get("connected") for _, p in procs):
            assert time.monotonic() < deadline, "workers did not connect"
            time.sleep(0.2)
        time.sleep(2.0)  # leadership settled, relay subscribed
        publisher = subprocess.Popen(
            [sys.executable, __file__, "--publish", str(broker_port), str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert publisher.stdout is not None
        assert publisher.stdin is not None
        assert publisher.stdout.readline().strip() == b"ready"  # its packets are encoded
        cpu0 = sum(cpu_seconds(proc.pid) for proc, _ in procs)
        servers0 = [cpu_seconds(pid) for pid in servers]
        started = time.perf_counter()
        publisher.stdin.write(b"go\n")
        publisher.stdin.flush()

        def acked() -> int:
            return sum(
                int(health(p, key).get("mqtt_ingest", {}).get("acknowledged", 0)) for _, p in procs
            )

        deadline = time.monotonic() + 900
        while (done := acked()) < n:
            assert time.monotonic() < deadline, f"only {done} of {n} acknowledged"
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        cpu = sum(cpu_seconds(proc.pid) for proc, _ in procs) - cpu0
        others = [cpu_seconds(pid) - c0 for pid, c0 in zip(servers, servers0, strict=True)]
        assert publisher.wait(60) == 0, "publisher failed"
        shares = [int(health(p, key)["mqtt_ingest"]["received"]) for _, p in procs]
        per = 10_000 / n
        print(f"  {workers} worker(s): {n / elapsed:,.0f} msg/s, shares {shares}; CPU s per "
              f"10,000 messages: hubs {cpu * per:.2f}, broker {others[0] * per:.2f}, "
              f"influxd {others[1] * per:.2f}")  # fmt: skip
        return {
            "rate": n / elapsed,
            "cpu_per_10k": cpu * per,
            "broker_per_10k": others[0] * per,
            "influxd_per_10k": others[1] * per,
        }
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()


def publisher_process(port: int, n: int) -> None:
    """`--publish PORT N`: the device fleet in its own process, on a bare socket (MQTT 3.1.1
    packets encoded up front): says "ready", waits for "go", sends the N QoS 1 fixes as fast
    as the broker takes them and reads their PUBACKs."""
    packets = []
    for i in range(n):
        topic, payload = fix(i)
        packets.append(_packet(0x32, _utf8(topic) + ((i % 65535) + 1).to_bytes(2, "big") + payload))
    sock = socket.create_connection(("127.0.0.1", port))
    connect = _utf8("MQTT") + bytes([4, 0x02]) + (60).to_bytes(2, "big") + _utf8("bench-fleet")
    sock.sendall(_packet(0x10, connect))
    assert sock.recv(4)[:1] == b"\x20", "no CONNACK"
    print("ready", flush=True)
    sys.stdin.readline()
    acked = 0
    for k in range(0, n, 1000):  # PUBACKs read between bursts: neither side's buffer fills
        sock.sendall(b"".join(packets[k : k + 1000]))
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while chunk := sock.recv(65536):
                acked += len(chunk)
        sock.setblocking(True)
    while acked < 4 * n:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("the broker closed the connection")
        acked += len(chunk)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--publish":
        publisher_process(int(sys.argv[2]), int(sys.argv[3]))
        return
    args = parse(__doc__ or "")
    n = 20_000 if args.quick else 100_000
    with mosquitto_server() as broker, postgres_server() as pg, influx_server() as influx:
        env = {
            **os.environ,
            "HUB_SECRET_KEY": "k" * 48,
            "HUB_DATABASE_URL": pg,
            "HUB_SHARED_DIR": tempfile.mkdtemp(prefix="bench-shared-"),
            "HUB_TELEMETRY_BACKEND": "influxdb",
            "HUB_INFLUX__URL": influx.url,
            "HUB_INFLUX__DATABASE": influx.database,
            "HUB_MQTT__PORT": str(broker.port),
            "HUB_MQTT__SHARED_GROUP": "hub",
            "HUB_MQTT__RELAY": "true",
            "HUB_MQTT__SESSION_EXPIRY_S": "0",  # a run's sessions end with it
            "HUB_LOG_LEVEL": "WARNING",
        }
        print(f"messages: {n}, {os.cpu_count()} cores")
        assert broker.proc is not None
        assert influx.proc is not None
        servers = [broker.proc.pid, influx.proc.pid]
        one = run(1, env, broker.port, n, "solo", servers)
        two = run(2, env, broker.port, n, "duo", servers)
    result(
        "scale_out",
        two["rate"],
        "msg/s acknowledged by 2 hub workers (shared subscription, relay on)",
        one["rate"],
        1.5,
        cores=os.cpu_count(),
        cpu_s_per_10k={
            "hubs_one": round(one["cpu_per_10k"], 2),
            "hubs_two": round(two["cpu_per_10k"], 2),
            "broker": round(two["broker_per_10k"], 2),
            "influxd": round(two["influxd_per_10k"], 2),
        },
    )


if __name__ == "__main__":
    main()
