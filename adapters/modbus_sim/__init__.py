"""Simulated Modbus devices (pymodbus servers) for the demo and the tests."""

from adapters.modbus_sim.simulator import Fault, ModbusSimulator, SimulatedDevice, from_site

__all__ = ["Fault", "ModbusSimulator", "SimulatedDevice", "from_site"]
