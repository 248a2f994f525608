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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

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
    protocol: int = 5  # 5, or 311 for MQTT 3.1.1 brokers (the demo's embedded one)
    session_expiry_s: int = 7 * 24 * 3600
    keepalive_s: int = 30
    shared_group: str | None = None  # MQTT 5: $share/<group>/<topic> across hub workers
    topics: tuple[str, ...] = field(
        default=("owntracks/+/+", "espresense/devices/+/+", "hub/ingest/location")
    )


class MqttLink:
    """A paho client on the asyncio loop: persistent session, QoS 1, manual acks."""

    def __init__(self, options: MqttOptions, on_message: OnMessage) -> None:
        self.options = options
        self._on_message = on_message
        self.connected = False
        self.last_error: str | None = None
        self.connects = 0
        self.received = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sock: Any = None
        self._reading = True
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        v5 = options.protocol == 5
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else False,
            manual_ack=True,
        )
        if options.username:
            self.client.username_pw_set(options.username, options.password)
        if options.tls:
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self.client.max_inflight_messages_set(100)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
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
        # a burst reaches the pipeline as one batch, not one loop turn per message.
        for _ in range(500):
            before = self.received
            self.client.loop_read()
            if self.received == before or not self._reading or self._sock is None:
                break

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
        self.connects += 1
        self.last_error = None
        client.subscribe([(t, 1) for t in self.topics()])
        log.info(
            "MQTT connected to %s:%d, subscribed to %s",
            self.options.host,
            self.options.port,
            ", ".join(self.topics()),
        )

    def _disconnected(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: object,
        properties: object = None,
    ) -> None:
        self.connected = False
        refused = (self.last_error or "").startswith("connect refused")
        if getattr(reason, "is_failure", False) and not self._stopping and not refused:
            self.last_error = f"disconnected: {reason}"  # a refusal's reason says more: keep it
            log.warning("MQTT disconnected (%s); reconnecting", reason)

    def _message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        self.received += 1
        self._on_message(msg.topic, bytes(msg.payload), msg.mid, msg.qos)
