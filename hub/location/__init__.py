"""Locations: device ids to site subjects, cleaning of fixes, zones, current positions."""

from hub.location.stage import LocationStage

__all__ = ["LocationStage"]
