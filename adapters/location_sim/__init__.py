"""Simulated guards' phones, badges and car trackers for the demo and the tests."""

from adapters.location_sim.simulator import LocationSimulator, Walker

__all__ = ["LocationSimulator", "Walker"]
