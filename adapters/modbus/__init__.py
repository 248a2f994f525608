"""Modbus TCP adapter: energy meters and plant controllers, register maps as data."""

from adapters.modbus.adapter import ModbusAdapter
from adapters.modbus.config import ModbusConnection, ModbusDevice, modbus_devices, site_hook
from adapters.modbus.points import MapError, PointSpec, RegisterMap, load_map, parse_map

__all__ = [
    "MapError",
    "ModbusAdapter",
    "ModbusConnection",
    "ModbusDevice",
    "PointSpec",
    "RegisterMap",
    "load_map",
    "modbus_devices",
    "parse_map",
    "site_hook",
]
