"""Simulated BACnet devices (bacpypes3 applications on loopback UDP) for the demo and tests."""

from adapters.bacnet_sim.simulator import (
    BacnetFault,
    BacnetSimulator,
    SimulatedBacnetDevice,
    from_site,
)

__all__ = ["BacnetFault", "BacnetSimulator", "SimulatedBacnetDevice", "from_site"]
