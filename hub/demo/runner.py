"""What `hub demo` adds to a hub: simulated devices on free loopback ports."""

from __future__ import annotations

from typing import Any

from adapters.embedded_broker.broker import free_port
from adapters.modbus_sim import ModbusSimulator, from_site
from hub.domain import Component, EventSink
from hub.settings import Settings
from hub.site import Site


def with_free_ports(site: Site) -> Site:
    """The site with every simulated Modbus host:port moved to a free loopback port."""
    moved: dict[tuple[str, int], int] = {}
    devices = []
    for d in site.devices:
        if d.protocol == "modbus":
            key = (str(d.connection.get("host")), int(d.connection.get("port", 502)))
            port = moved.setdefault(key, free_port())
            conn: dict[str, Any] = {**d.connection, "host": "127.0.0.1", "port": port}
            d = d.model_copy(update={"connection": conn})
        devices.append(d)
    return site.model_copy(update={"devices": devices})


def demo_simulators(settings: Settings, site: Site, sink: EventSink) -> list[Component]:
    """Simulators for the site's devices (started before the adapters that poll them)."""
    base = settings.site_file.parent if settings.site_file else None
    sims = from_site(site.devices, base)
    return [ModbusSimulator(sims)] if sims else []
