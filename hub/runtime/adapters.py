"""The protocol adapters a hub runs for its site, and the site's checks they bring."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from adapters.bacnet import BacnetAdapter, BacnetLink
from adapters.bacnet import site_hook as bacnet_site_hook
from adapters.modbus import ModbusAdapter
from adapters.modbus import site_hook as modbus_site_hook
from adapters.mqtt import ClusterRelay, MqttIngest, MqttOptions, MqttSender
from hub.domain import Component, EventSink
from hub.pipeline import Pipeline
from hub.services.energy.meters import MeterTree, MeterTreeError
from hub.settings import MqttSettings, Settings
from hub.site import Site, SiteConfigError, SiteProblem, load_site
from hub.site.energy import meters_of
from hub.site.loader import DeviceHook

# Builds the components a hub runs besides its core (adapters, simulators) from its site.
ComponentFactory = Callable[[Settings, Site, EventSink], Sequence[Component]]
PollerFactory = Callable[[Settings, Site, EventSink], Component]

# Each protocol's check of a device in the site file (connection, register map).
SITE_HOOKS: dict[str, DeviceHook] = {"modbus": modbus_site_hook, "bacnet": bacnet_site_hook}


def load_site_for_hub(path: str | Path) -> Site:
    """Load a site file with every adapter's checks and the meter hierarchy's (what
    `hub check` and `hub run` use)."""
    site = load_site(path, SITE_HOOKS)
    try:
        MeterTree(meters_of(site))
    except MeterTreeError as err:
        problems = [SiteProblem("meters", msg) for msg in str(err).split("; ")]
        raise SiteConfigError(str(path), problems) from err
    return site


def site_dir(settings: Settings) -> Path | None:
    """The folder of the site file (maps and plans are looked up next to it)."""
    return settings.site_file.parent if settings.site_file else None


def mqtt_options(m: MqttSettings) -> MqttOptions:
    """The MQTT client's options from the hub's settings."""
    return MqttOptions(
        host=m.host,
        port=m.port,
        client_id=m.client_id,
        username=m.username,
        password=m.password.get_secret_value() if m.password else None,
        tls=m.tls,
        ca_file=m.ca_file,
        protocol=m.protocol,
        session_expiry_s=m.session_expiry_s,
        shared_group=m.shared_group,
    )


def _modbus(settings: Settings, site: Site, sink: EventSink) -> Component:
    return ModbusAdapter.from_site(site.devices, sink, site_dir(settings))


def _bacnet(settings: Settings, site: Site, sink: EventSink) -> Component:
    b = settings.bacnet
    link = BacnetLink(
        b.address,
        b.device_instance,
        bbmd=b.bbmd,
        ttl_s=b.ttl_s,
        apdu_timeout_ms=b.apdu_timeout_ms,
        retries=b.retries,
    )
    return BacnetAdapter.from_site(site.devices, sink, link, site_dir(settings))


# The adapters that poll devices: with several workers only the leader runs them.
POLLERS: dict[str, PollerFactory] = {"modbus": _modbus, "bacnet": _bacnet}


def embedded_broker_port(settings: Settings) -> int | None:
    """The port the embedded broker listens on (None without one)."""
    return settings.mqtt.port if settings.mqtt.embedded else None


def adapter_components(settings: Settings, site: Site, sink: EventSink) -> list[Component]:
    """The protocol adapters the site's devices need (each adapter registers here)."""
    components: list[Component] = []
    m = settings.mqtt
    if m.embedded:
        from adapters.embedded_broker import EmbeddedBroker

        broker = EmbeddedBroker(m.host, m.port)
        components.append(broker)
        m = m.model_copy(update={"port": broker.port, "protocol": 311})  # amqtt: MQTT 3.1.1
    if m.ingest:
        components.append(MqttIngest(mqtt_options(m), sink))
    for protocol, build in POLLERS.items():
        if any(d.protocol == protocol for d in site.devices):
            components.append(build(settings, site, sink))
    return components


def alarm_sender(settings: Settings) -> MqttSender | None:
    """The MQTT client publishing alarms to `notify.mqtt_topic` (None without a topic). With
    the embedded broker (amqtt), MQTT 3.1.1 on the port the broker took: see `aim_at`."""
    if not settings.notify.mqtt_topic:
        return None
    options = mqtt_options(settings.mqtt)
    return MqttSender(dataclasses.replace(options, client_id=f"{settings.mqtt.client_id}-alarms"))


def aim_at_broker(sender: MqttSender, components: Sequence[Component]) -> None:
    """Point the alarm sender at the embedded broker among `components`, if there is one
    (its port is known once it is built)."""
    for c in components:
        port = getattr(c, "port", None) if c.name == "mqtt_broker" else None
        if isinstance(port, int):
            sender.options = dataclasses.replace(sender.options, port=port, protocol=311)


def cluster_relay(settings: Settings, pipeline: Pipeline) -> ClusterRelay | None:
    """With several hub workers on an external broker: the relay sharing what each accepted."""
    if settings.mqtt.relay and not settings.mqtt.embedded:
        return ClusterRelay(mqtt_options(settings.mqtt), pipeline.relayed)
    return None
