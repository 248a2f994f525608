"""What `hub demo` adds to a hub: simulated devices on free loopback ports."""

from __future__ import annotations

import socket
from typing import Any

from adapters.bacnet_sim import BacnetSimulator
from adapters.bacnet_sim import from_site as bacnet_from_site
from adapters.embedded_broker.broker import free_port
from adapters.location_sim import LocationSimulator
from adapters.location_sim.simulator import demo_walkers
from adapters.modbus_sim import ModbusSimulator, from_site
from hub.domain import Component, EventSink
from hub.runtime import ComponentFactory
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


def demo_simulators(
    osmand_url: str | None = None, counters: dict[str, float] | None = None
) -> ComponentFactory:
    """The factory of the demo's simulators (started before the adapters that read them).

    With `osmand_url` (the hub's /api/osmand with a device key) guards and cars move too:
    guard g1 walks past the plant-room checkpoint and car-3 leaves the district. Simulated
    meters' counters start from `counters` (point id: value), where the stored history ends.
    """

    def build(settings: Settings, site: Site, sink: EventSink) -> list[Component]:
        base = settings.site_file.parent if settings.site_file else None
        components: list[Component] = []
        if sims := from_site(site.devices, base):
            modbus = ModbusSimulator(sims)
            for point, value in (counters or {}).items():
                device, _, point_id = point.partition(".")
                if device in modbus.devices:
                    modbus.set_value(device, point_id, value)
            components.append(modbus)
        if bacnet := bacnet_from_site(site.devices, base):
            components.append(BacnetSimulator(bacnet))
        if osmand_url:
            walkers = demo_walkers(site, skip=("g1", "cp-plant"), stray_car="car-3")
            components.append(
                LocationSimulator(
                    walkers,
                    mqtt_host=settings.mqtt.host,
                    mqtt_port=settings.mqtt.port,
                    osmand_url=osmand_url,
                )
            )
        return components

    return build
