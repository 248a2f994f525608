"""The composition root: builds stores, pipeline, services, adapters and the app, and runs
them. Only this package (and the CLI that calls it) imports everything."""

from hub.runtime.adapters import (
    POLLERS,
    SITE_HOOKS,
    ComponentFactory,
    adapter_components,
    load_site_for_hub,
    mqtt_options,
    site_dir,
)
from hub.runtime.hub import Hub
from hub.runtime.stores import RetentionJob, make_telemetry

__all__ = [
    "POLLERS",
    "SITE_HOOKS",
    "ComponentFactory",
    "Hub",
    "RetentionJob",
    "adapter_components",
    "load_site_for_hub",
    "make_telemetry",
    "mqtt_options",
    "site_dir",
]
