"""What `hub demo` adds to a hub: simulated devices on free loopback ports."""

from __future__ import annotations

import socket
from typing import Any

from adapters.bacnet_sim import BacnetSimulator
from adapters.bacnet_sim import from_site as bacnet_from_site
from adapters.embedded_broker.broker import free_port
from adapters.modbus_sim import ModbusSimulator, from_site
from hub.domain import Component, EventSink
from hub.settings import Settings
from hub.site import Site


def free_udp_port() -> int:
    """A UDP port nobody has bound on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def with_free_ports(site: Site) -> Site:
    """The site with every simulated device moved to a free loopback port (Modbus: TCP, one
    per host:port; BACnet: UDP, one per device)."""
    moved: dict[tuple[str, int], int] = {}
    devices = []
    for d in site.devices:
        conn: dict[str, Any] = dict(d.connection)
        if d.protocol == "modbus":
            key = (str(conn.get("host")), int(conn.get("port", 502)))
            conn.update(host="127.0.0.1", port=moved.setdefault(key, free_port()))
        elif d.protocol == "bacnet":
            conn["address"] = f"127.0.0.1:{free_udp_port()}"
        devices.append(d.model_copy(update={"connection": conn}))
    return site.model_copy(update={"devices": devices})


def demo_simulators(settings: Settings, site: Site, sink: EventSink) -> list[Component]:
    """Simulators for the site's devices (started before the adapters that poll them)."""
    base = settings.site_file.parent if settings.site_file else None
    components: list[Component] = []
    if sims := from_site(site.devices, base):
        components.append(ModbusSimulator(sims))
    if bacnet := bacnet_from_site(site.devices, base):
        components.append(BacnetSimulator(bacnet))
    return components
