"""Location ingest over MQTT: the hub beside a bare paho subscriber, same broker, same run.

Both subscribe with persistent sessions, go offline, N QoS 1 OwnTracks fixes are queued for
them at Mosquitto, and each is timed draining its backlog: the bare subscriber only counts;
the hub decodes, validates, resolves the guard, cleans, finds the zone, keeps the current
state and writes the telemetry store, acknowledging each message once stored. Then fixes are
published at half the hub's rate and the time from publish to the hub's current state is
measured (p50, p99). Goals: >= 0.6 of the bare rate; p99 < 50 ms.

    python bench/ingest.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
from _common import ROOT, parse, result
from paho.mqtt.enums import CallbackAPIVersion

from adapters.mqtt import MqttIngest, MqttOptions
from hub.location import LocationStage
from hub.pipeline import Envelope, Pipeline
from hub.runtime import load_site_for_hub
from hub.telemetry import SQLiteTelemetryStore, TelemetrySink
from tests.support.servers import mosquitto_server

GUARDS = ["g1/phone", "g2/phone", "g3/phone", "g4/phone"]
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def fix(i: int) -> tuple[str, bytes]:
    guard = GUARDS[i % len(GUARDS)]
    step = i // len(GUARDS)
    payload = {
        "_type": "location",
        "lat": 30.2595 + (step % 1000) * 1e-6,
        "lon": 120.1307,
        "acc": 5,
        "tst": int((T0 + timedelta(seconds=step)).timestamp()),
    }
    return f"owntracks/{guard}", json.dumps(payload).encode()


def client(client_id: str, port: int, **kw: object) -> paho.Client:
    c = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv311,
        clean_session=False,
        **kw,
    )  # type: ignore[arg-type]
    c.connect("127.0.0.1", port)
    return c


def publish(port: int, n: int) -> None:
    """Queue fixes 0 .. n-1 (the backlog both subscribers drain)."""
    pub = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="bench-pub")
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)  # no local limit: the bench queues the whole backlog
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    last = None
    for i in range(n):
        topic, payload = fix(i)
        last = pub.publish(topic, payload, qos=1)
        if i % 20_000 == 19_999:
            last.wait_for_publish(60)  # message ids wrap at 65,535: don't queue more than that
    assert last is not None
    last.wait_for_publish(60)
    pub.disconnect()
    pub.loop_stop()


def bare_rate(port: int, n: int) -> float:
    got = 0
    done = threading.Event()

    def on_message(c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
        nonlocal got
        got += 1
        if got >= n:
            done.set()

    c = client("bench-bare", port)
    c.on_message = on_message
    started = time.perf_counter()
    c.loop_start()
    assert done.wait(600), f"bare subscriber got {got} of {n}"
    elapsed = time.perf_counter() - started
    c.disconnect()
    c.loop_stop()
    return n / elapsed


def subscribe_offline(port: int, client_id: str) -> None:
    """Create a persistent session subscribed to the fixes, then leave."""
    c = client(client_id, port)
    c.loop_start()
    c.subscribe("owntracks/+/+", qos=1)
    time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


async def hub(
    port: int, folder: Path, n: int, latency_n: int, rate_fraction: float
) -> tuple[float, list[float]]:
    site = load_site_for_hub(ROOT / "hub" / "demo" / "site.yaml")
    stage = LocationStage(site)
    store = SQLiteTelemetryStore(folder / "t.db")
    pipeline = Pipeline(maxsize=50_000, stages=[stage])
    pipeline.subscribe("telemetry", TelemetrySink(store), max_batch=5000, maxsize=50_000)
    arrived: dict[tuple[str, int], float] = {}

    async def live(batch: list[Envelope]) -> None:  # the current state, as the live view sees it
        now = time.time()
        for env in batch:
            e = env.event
            arrived.setdefault((e.subject_id, int(e.ts.timestamp())), now)  # type: ignore[union-attr]

    pipeline.subscribe("live", live, lossless=False, max_batch=1000)  # type: ignore[arg-type]
    await pipeline.start()
    ingest = MqttIngest(MqttOptions(port=port, client_id="bench-hub", protocol=311), pipeline)
    started = time.perf_counter()
    await ingest.start()
    async with asyncio.timeout(600):
        while ingest.acks.acked < n:
            await asyncio.sleep(0.01)
    rate = n / (time.perf_counter() - started)

    # The devices are other processes: publish from one, so its work doesn't share the
    # hub's interpreter lock.
    arrived.clear()
    out = folder / "sent.json"
    publisher = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--publish",
        str(port),
        str(latency_n),
        str(n),
        str(rate * rate_fraction),
        str(out),
    )
    assert await publisher.wait() == 0, "publisher failed"
    sent = {
        (k.split("|")[0], int(k.split("|")[1])): v for k, v in json.loads(out.read_text()).items()
    }
    async with asyncio.timeout(60):
        while ingest.acks.acked < n + len(sent):
            await asyncio.sleep(0.01)
    await ingest.stop()
    await pipeline.stop()
    await store.close()
    by_guard = {f"g{i + 1}": f"g{i + 1}/phone" for i in range(4)}
    latencies = [
        (arrived[(s, ts)] - sent[(by_guard[s], ts)]) * 1000
        for (s, ts) in arrived
        if (by_guard.get(s), ts) in sent
    ]
    return rate, latencies


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(header: int, body: bytes) -> bytes:
    return bytes([header]) + _varint(len(body)) + body


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return len(raw).to_bytes(2, "big") + raw


def publisher_process(argv: list[str]) -> None:
    """`--publish PORT N START RATE FILE`: N QoS 1 fixes at RATE a second; send times to FILE.

    The device fleet, in a process of its own and on a bare socket (MQTT 3.1.1 packets
    encoded up front, sent in per-millisecond bursts): a paho publisher at this rate needs a
    whole core of this 2-core machine, which the hub and the broker would then lack.
    """
    port, n, start, rate, out = int(argv[0]), int(argv[1]), int(argv[2]), float(argv[3]), argv[4]
    keys, packets = [], []
    for k, i in enumerate(range(start, start + n)):
        topic, payload = fix(i)
        keys.append(f"{topic.split('/', 1)[1]}|{int(T0.timestamp()) + i // len(GUARDS)}")
        mid = (k % 65535) + 1
        packets.append(_packet(0x32, _utf8(topic) + mid.to_bytes(2, "big") + payload))
    sock = socket.create_connection(("127.0.0.1", port))
    connect = _utf8("MQTT") + bytes([4, 0x02]) + (60).to_bytes(2, "big") + _utf8(f"pub-{start}")
    sock.sendall(_packet(0x10, connect))
    assert sock.recv(4)[:1] == b"\x20", "no CONNACK"
    sock.setblocking(False)
    acked_bytes = 0  # PUBACKs are 4 bytes each; a read may end inside one
    sent: dict[str, float] = {}
    began = time.perf_counter()
    k = 0
    while k < n or acked_bytes < 4 * n:
        due = min(n, int((time.perf_counter() - began) * rate) + 1)
        if due > k:
            now = time.time()
            sock.setblocking(True)
            sock.sendall(b"".join(packets[k:due]))
            sock.setblocking(False)
            for j in range(k, due):
                sent[keys[j]] = now
            k = due
        try:
            got = sock.recv(65536)
        except BlockingIOError:
            time.sleep(0.0005)
            continue
        if not got:
            raise SystemExit("the broker closed the connection")
        acked_bytes += len(got)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    Path(out).write_text(json.dumps(sent))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--publish":
        publisher_process(sys.argv[2:])
        return
    args = parse(__doc__ or "")
    n, latency_n = (20_000, 2_000) if args.quick else (100_000, 10_000)
    with mosquitto_server() as broker, tempfile.TemporaryDirectory() as tmp:
        subscribe_offline(broker.port, "bench-bare")
        subscribe_offline(broker.port, "bench-hub")
        publish(broker.port, n)  # queued at the broker for both sessions
        bare = bare_rate(broker.port, n)
        hub_rate, latencies = asyncio.run(hub(broker.port, Path(tmp), n, latency_n, 0.5))
    p50 = statistics.median(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(f"messages:                         {n}")
    print(f"bare paho subscriber (counts):    {bare:,.0f} msg/s")
    print(f"hub ingest (decode..store, acks): {hub_rate:,.0f} msg/s")
    print(
        f"publish -> current state at half rate: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"({len(latencies)} fixes)"
    )
    result(
        "ingest",
        hub_rate,
        "msg/s",
        bare,
        0.6,
        p50_ms=round(p50, 1),
        p99_ms=round(p99, 1),
        p99_goal_ms=50,
        latency_at_msg_s=round(hub_rate * 0.5),
    )


if __name__ == "__main__":
    main()
