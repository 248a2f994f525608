"""The embedded broker: amqtt on a loopback port, anonymous (loopback only), for the demo."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from amqtt.broker import Broker

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


class EmbeddedBroker:
    """An amqtt broker bound to loopback; about 2-3k msg/s, enough for a demo compound."""

    name = "mqtt_broker"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the embedded broker allows anonymous clients: loopback only")
        self.host = host
        self.port = port or free_port(host)
        self._broker: Any = None
        self._error: str | None = None

    async def start(self) -> None:
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        self._broker = Broker(config, loop=asyncio.get_running_loop())
        await self._broker.start()
        log.info("embedded MQTT broker on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._broker is not None:
            try:
                await self._broker.shutdown()
            except Exception as err:  # shutting down must not fail the hub's shutdown
                log.warning("embedded broker shutdown: %s", err)
            self._broker = None

    def health(self) -> dict[str, object]:
        running = self._broker is not None
        return {
            "status": "ok" if running else "down",
            "kind": "embedded (amqtt)",
            "url": f"mqtt://{self.host}:{self.port}",
        }
