"""The one place the ingest touches paho-mqtt.

paho (not aiomqtt): aiomqtt 2.x acknowledges QoS 1 messages as soon as they are queued, before
the application has them; paho's `manual_ack` lets the hub send PUBACK only once a message is
stored. paho runs its network loop in a thread of its own and reconnects by itself with
backoff; subscriptions are (re)made on every connect.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

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
    """A paho client with a persistent session, QoS 1 subscriptions and manual acks."""

    def __init__(self, options: MqttOptions, on_message: OnMessage) -> None:
        self.options = options
        self._on_message = on_message
        self.connected = False
        self.last_error: str | None = None
        self.connects = 0
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
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.max_inflight_messages_set(100)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message

    def topics(self) -> list[str]:
        """The topic filters subscribed to (shared when a group is set)."""
        group = self.options.shared_group
        return [f"$share/{group}/{t}" if group else t for t in self.options.topics]

    def start(self) -> None:
        """Connect in the background; paho retries until the broker answers."""
        o = self.options
        if o.protocol == 5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = o.session_expiry_s
            self.client.connect_async(
                o.host, o.port, keepalive=o.keepalive_s, clean_start=False, properties=props
            )
        else:
            self.client.connect_async(o.host, o.port, keepalive=o.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect (the session and its unacknowledged messages stay with the broker)."""
        self.client.disconnect()
        self.client.loop_stop()

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a message (PUBACK for QoS 1)."""
        self.client.ack(mid, qos)

    # paho callbacks (paho's thread) -------------------------------------------------------

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
        if getattr(reason, "is_failure", False) or str(reason) not in ("Success", "0"):
            self.last_error = f"disconnected: {reason}"
            log.warning("MQTT disconnected (%s); paho reconnects", reason)

    def _message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        self._on_message(msg.topic, bytes(msg.payload), msg.mid, msg.qos)
