"""Telemetry: the store port, its embedded SQLite backend and the pipeline sink."""

from hub.telemetry.port import Latest, Sample, TelemetryError, TelemetryStore
from hub.telemetry.sink import TELEMETRY_KINDS, TelemetrySink
from hub.telemetry.sqlite import SQLiteTelemetryStore

__all__ = [
    "TELEMETRY_KINDS",
    "Latest",
    "SQLiteTelemetryStore",
    "Sample",
    "TelemetryError",
    "TelemetrySink",
    "TelemetryStore",
]
