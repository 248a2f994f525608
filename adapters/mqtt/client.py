"""The one place the ingest touches paho-mqtt.

paho (not aiomqtt): aiomqtt 2.x acknowledges QoS 1 messages as soon as they are queued, before
the application has them; paho's `manual_ack` lets the hub send PUBACK only once a message is
stored. paho runs on the hub's asyncio loop through its socket callbacks (`loop_read` when the
socket is readable, `loop_write` when it has data to send, `loop_misc` every second), so a
message and its acknowledgement never cross threads. Reconnection is ours: backoff with
jitter from 1 s to 30 s; subscriptions are (re)made on every connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

log = logging.getLogger(__name__)

OnMessage = Callable[[str, bytes, int, int], None]  # topic, payload, mid, qos


@dataclass(frozen=True)
class MqttOptions:
    """How to reach the broker and what to subscribe to."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "dayuan-hub"  # stable: the broker keeps this session's messages
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None  # a site CA's certificate (PEM); None: the system's CAs
    protocol: int = 5  # 5, or 311 for MQTT 3.1.1 brokers (the demo's embedded one)
    session_expiry_s: int = 7 * 24 * 3600
    keepalive_s: int = 30
    shared_group: str | None = None  # MQTT 5: $share/<group>/<topic> across hub workers
    max_queued: int = 0  # messages kept to send while disconnected (0: no limit)
    no_local: bool = False  # MQTT 5: the broker doesn't send back what this client published
    topics: tuple[str, ...] = field(
        default=("owntracks/+/+", "espresense/devices/+/+", "hub/ingest/location")
    )


class _BufferedClient(paho.Client):
    """paho reads a packet with three recv() calls (type, length, body); this one reads the
    socket in 64 KiB chunks and serves paho's reads from the buffer: a burst of small
    location messages costs one system call per chunk instead of three per message.
    (`_sock_recv` is paho 2.x's single read path; paho is pinned to major 2.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0

    def reset_buffer(self) -> None:
        """Forget buffered bytes (a new connection starts a new stream)."""
        self._rbuf, self._rpos = b"", 0

    def buffered(self) -> int:
        """Bytes read from the socket that paho has not consumed yet."""
        return len(self._rbuf) - self._rpos

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            chunk = super()._sock_recv(65536)  # BlockingIOError when nothing is there
            if not chunk:
                return chunk  # the broker closed the connection
            self._rbuf, self._rpos = chunk, 0
        start = self._rpos
        self._rpos = min(start + bufsize, len(self._rbuf))
        return self._rbuf[start : self._rpos]

    def _packet_write(self) -> MQTTErrorCode:
        # paho sends each queued packet with its own send(); the hub acknowledges messages in
        # bursts, so join the queued PUBACKs (4 bytes each) into one write first.
        queue = self._out_packet
        if len(queue) > 1:
            _join_pubacks(queue)
        return super()._packet_write()


def _join_pubacks(queue: deque[Any]) -> None:
    """Merge runs of unsent PUBACK packets in paho's out queue into single packets."""
    out: list[Any] = []
    run: list[Any] = []

    def close_run() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            data = b"".join(p["packet"] for p in run)
            out.append({**run[0], "packet": data, "to_process": len(data), "pos": 0})
        run.clear()

    for packet in queue:
        if packet["command"] & 0xF0 == paho.PUBACK and packet["pos"] == 0:
            run.append(packet)
        else:
            close_run()
            out.append(packet)
    close_run()
    if len(out) < len(queue):
        queue.clear()
        queue.extend(out)


def _sign_in(client: paho.Client, options: MqttOptions) -> None:
    """The broker's credentials and TLS (a site CA's certificate, or the system's CAs)."""
    if options.username:
        client.username_pw_set(options.username, options.password)
    if options.tls:
        client.tls_set(ca_certs=options.ca_file, cert_reqs=ssl.CERT_REQUIRED)


def _queued(rc: MQTTErrorCode) -> bool:
    """Whether paho took a message: sent, or kept to send once connected (QoS 1)."""
    return rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)


class MqttLink:
    """A paho client on the asyncio loop: persistent session, QoS 1, manual acks."""

    def __init__(self, options: MqttOptions, on_message: OnMessage) -> None:
        self.options = options
        self._on_message = on_message
        self.connected = False
        self.subscribed = False  # the broker acknowledged this connection's subscriptions
        self.last_error: str | None = None
        self.connects = 0
        self.received = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sock: Any = None
        self._reading = True
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        v5 = options.protocol == 5
        self.client = _BufferedClient(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else False,
            manual_ack=True,
        )
        _sign_in(self.client, options)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(options.max_queued)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_subscribe = self._suback
        self.client.on_message = self._message
        self.client.on_socket_open = self._socket_open
        self.client.on_socket_close = self._socket_close
        self.client.on_socket_register_write = self._want_write
        self.client.on_socket_unregister_write = self._done_writing

    def topics(self) -> list[str]:
        """The topic filters subscribed to (shared when a group is set)."""
        group = self.options.shared_group
        return [f"$share/{group}/{t}" if group else t for t in self.options.topics]

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (and keep connecting) in the background."""
        self._loop = asyncio.get_running_loop()
        self._tasks = [
            asyncio.create_task(self._keep_connected(), name="mqtt-connect"),
            asyncio.create_task(self._misc(), name="mqtt-misc"),
        ]

    async def stop(self) -> None:
        """Disconnect (the session and its unacknowledged messages stay with the broker)."""
        self._stopping = True
        with contextlib.suppress(Exception):
            self.client.disconnect()
            if self._sock is not None:
                self.client.loop_write()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def _keep_connected(self) -> None:
        delay = 1.0
        o = self.options
        while not self._stopping:
            if self.connected or self._sock is not None:
                await asyncio.sleep(0.5)
                continue
            try:
                if o.protocol == 5:
                    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
                    props.SessionExpiryInterval = o.session_expiry_s
                    # Messages are acknowledged once stored: let the broker keep a window of
                    # them in flight that covers a storage round trip.
                    props.ReceiveMaximum = 1000
                    await asyncio.to_thread(
                        self.client.connect,
                        o.host,
                        o.port,
                        o.keepalive_s,
                        clean_start=False,
                        properties=props,
                    )
                else:
                    await asyncio.to_thread(self.client.connect, o.host, o.port, o.keepalive_s)
                delay = 1.0
            except (OSError, ssl.SSLError, ValueError) as err:
                self.last_error = f"cannot connect to {o.host}:{o.port}: {err}"
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 (jitter)
                delay = min(30.0, delay * 2)

    async def _misc(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self._sock is not None:
                self.client.loop_misc()  # keepalive pings, retries, timeouts

    # -- paho's socket callbacks (on the loop) --------------------------------------------

    def _socket_open(self, client: paho.Client, userdata: object, sock: Any) -> None:
        self._sock = sock
        self.client.reset_buffer()
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self._call(self._watch, sock, True)

    def _socket_close(self, client: paho.Client, userdata: object, sock: Any) -> None:
        self._call(self._watch, sock, False)
        self._call(self._watch_writes, sock, False)
        self._sock = None
        self._reading = True

    def _want_write(self, client: paho.Client, userdata: object, sock: Any) -> None:
        self._call(self._watch_writes, sock, True)

    def _done_writing(self, client: paho.Client, userdata: object, sock: Any) -> None:
        self._call(self._watch_writes, sock, False)

    def _watch(self, sock: Any, on: bool) -> None:
        if self._loop is None:
            return
        if on:
            self._loop.add_reader(sock, self._read)
        else:
            self._loop.remove_reader(sock)

    def _watch_writes(self, sock: Any, on: bool) -> None:
        if self._loop is None:
            return
        if on:
            self._loop.add_writer(sock, self._write)
        else:
            self._loop.remove_writer(sock)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        # `connect` runs in a worker thread; everything else already runs on the loop.
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def _read(self) -> None:
        # paho reads one packet per loop_read(); keep reading while messages keep coming, so
        # a burst reaches the pipeline as one batch, not one loop turn per message. Bytes
        # left in the client's buffer don't make the socket readable: come back for them.
        client = self.client
        for _ in range(500):
            before = self.received
            client.loop_read()
            if not self._reading or self._sock is None:
                return
            if self.received == before and not client.buffered():
                return
        if client.buffered() and self._loop is not None:
            self._loop.call_soon(self._read_buffered)

    def _read_buffered(self) -> None:
        if self._reading and self._sock is not None:
            self._read()

    def _write(self) -> None:
        self.client.loop_write()

    def pause_reading(self) -> None:
        """Stop reading the socket (the broker keeps the rest: backpressure)."""
        if self._reading and self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock)
            self._reading = False

    def resume_reading(self) -> None:
        """Read again."""
        if not self._reading and self._sock is not None and self._loop is not None:
            self._loop.add_reader(self._sock, self._read)
            self._reading = True
            if self.client.buffered():
                self._loop.call_soon(self._read_buffered)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> bool:
        """Send a message; while disconnected paho keeps QoS 1 ones (up to its queue limit)
        and sends them on reconnecting. False when refused (the queue is full)."""
        return _queued(self.client.publish(topic, payload, qos=qos).rc)

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a message (PUBACK for QoS 1)."""
        self.client.ack(mid, qos)

    # -- paho's protocol callbacks --------------------------------------------------------

    def _connected(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: object,
        properties: object = None,
    ) -> None:
        if getattr(reason, "is_failure", False):
            self.last_error = f"connect refused: {reason}"
            log.warning("MQTT broker refused the connection: %s", reason)
            return
        self.connected = True
        self.subscribed = False
        self.connects += 1
        self.last_error = None
        if self.options.protocol == 5 and self.options.no_local:
            options = SubscribeOptions(qos=1, noLocal=True)
            client.subscribe([(t, options) for t in self.topics()])
        else:
            client.subscribe([(t, 1) for t in self.topics()])
        log.info(
            "MQTT connected to %s:%d, subscribed to %s",
            self.options.host,
            self.options.port,
            ", ".join(self.topics()),
        )

    def _suback(self, client: paho.Client, userdata: object, mid: int, *_: object) -> None:
        self.subscribed = True

    def _disconnected(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: object,
        properties: object = None,
    ) -> None:
        self.connected = self.subscribed = False
        refused = (self.last_error or "").startswith("connect refused")
        if getattr(reason, "is_failure", False) and not self._stopping and not refused:
            self.last_error = f"disconnected: {reason}"  # a refusal's reason says more: keep it
            log.warning("MQTT disconnected (%s); reconnecting", reason)

    def _message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        self.received += 1
        self._on_message(msg.topic, bytes(msg.payload), msg.mid, msg.qos)


class MqttSender:
    """Publishes on a broker from paho's own thread, for outputs that only send (alarm
    changes for other systems): QoS 1, paho keeps up to `max_queued` messages while the
    broker is away and reconnects by itself (1 s to 30 s)."""

    def __init__(self, options: MqttOptions) -> None:
        self.options = options
        self.connected = False
        self.sent = 0
        self.client: paho.Client | None = None

    def _build(self) -> paho.Client:
        o = self.options
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=o.client_id,
            protocol=paho.MQTTv5 if o.protocol == 5 else paho.MQTTv311,
        )
        _sign_in(client, o)
        client.max_queued_messages_set(o.max_queued or 10_000)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    def _on_connect(self, *args: Any) -> None:
        self.connected = True

    def _on_disconnect(self, *args: Any) -> None:
        self.connected = False

    def _on_publish(self, *args: Any) -> None:
        self.sent += 1

    def start(self) -> None:
        """Connect in the background (paho's own thread), to the options as they are now."""
        self.client = self._build()
        self.client.connect_async(self.options.host, self.options.port)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect."""
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()

    def publish(self, topic: str, payload: bytes) -> bool:
        """Queue one message (never blocks); False when paho's queue is full."""
        if self.client is None:
            return False
        return _queued(self.client.publish(topic, payload, qos=1).rc)
