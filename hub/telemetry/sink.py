"""The pipeline consumer that writes telemetry events to the store in batches."""

from __future__ import annotations

from collections.abc import Sequence

from hub.pipeline import Envelope
from hub.telemetry.port import TelemetryStore

TELEMETRY_KINDS = ("reading", "status", "position", "sighting")


class TelemetrySink:
    """Hands each batch the pipeline delivers to the store in one write."""

    def __init__(self, store: TelemetryStore) -> None:
        self.store = store

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        await self.store.write([env.event for env in batch])
        for env in batch:  # durable now: let the sources acknowledge (e.g. MQTT PUBACK)
            if env.ack is not None:
                env.ack()
