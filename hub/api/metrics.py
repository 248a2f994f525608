"""Prometheus metrics collected from the live counters (one source of truth, no double count)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.context import HubContext

# Telemetry store figures that only grow (exported as counters, the rest as gauges).
_COUNTERS = {"written", "batches", "dropped_bad_points", "dropped_spool_full", "write_failures"}
_HELP = {
    "written": "Telemetry points written to the store",
    "write_rate": "Points written per second, last minute",
    "last_batch_ms": "Latency of the last batch write",
    "spool_points": "Points waiting in the durable spool",
    "spool_bytes": "Bytes in the durable spool",
    "spool_usage": "Fraction of the spool's size limit in use",
    "spool_age_s": "Age of the oldest spooled batch",
    "dropped_bad_points": "Points the server refused as invalid",
    "dropped_spool_full": "Points dropped by the drop_oldest spool policy",
    "write_failures": "Failed write attempts (retried)",
}


class HubCollector(Collector):
    """Reads the pipeline's and components' counters at scrape time."""

    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Any]:
        stats = self.ctx.pipeline.stats
        accepted = CounterMetricFamily(
            "hub_events_accepted", "Events accepted by the pipeline", labels=["source", "kind"]
        )
        for (source, kind), n in sorted(stats.accepted.items()):
            accepted.add_metric([source, kind], n)
        yield accepted
        rejected = CounterMetricFamily(
            "hub_events_rejected", "Input refused, by reason", labels=["source", "reason"]
        )
        for (source, reason), n in sorted(stats.rejected.items()):
            rejected.add_metric([source, reason], n)
        yield rejected
        dropped = CounterMetricFamily(
            "hub_events_dropped", "Events dropped under load", labels=["source", "reason"]
        )
        for (source, reason), n in sorted(stats.dropped.items()):
            dropped.add_metric([source, reason], n)
        yield dropped

        depth = GaugeMetricFamily("hub_pipeline_queue_depth", "Events waiting", labels=["queue"])
        depth.add_metric(["ingress"], self.ctx.pipeline.depth)
        handled = CounterMetricFamily(
            "hub_consumer_handled", "Events handled per consumer", labels=["consumer"]
        )
        errors = CounterMetricFamily(
            "hub_consumer_errors", "Events a consumer failed on", labels=["consumer"]
        )
        cdrop = CounterMetricFamily(
            "hub_consumer_dropped", "Events a lossy consumer dropped", labels=["consumer"]
        )
        for name, queued, n_handled, n_errors, n_dropped in self.ctx.pipeline.consumers():
            depth.add_metric([name], queued)
            handled.add_metric([name], n_handled)
            errors.add_metric([name], n_errors)
            cdrop.add_metric([name], n_dropped)
        yield from (depth, handled, errors, cdrop)

        tel = self.ctx.telemetry.health()
        backend = str(tel.get("backend", ""))
        for key, value in sorted(tel.items()):
            if isinstance(value, int | float) and not isinstance(value, bool):
                family = CounterMetricFamily if key in _COUNTERS else GaugeMetricFamily
                metric = family(f"hub_telemetry_{key}", _HELP.get(key, key), labels=["backend"])
                metric.add_metric([backend], float(value))
                yield metric
        live = self.ctx.live.health()
        yield GaugeMetricFamily("hub_live_clients", "Connected websocket clients", live["clients"])
        yield CounterMetricFamily("hub_live_sent", "Websocket frames sent", live["sent"])
        yield CounterMetricFamily("hub_live_changes", "Entity changes taken in", live["changes"])
        yield CounterMetricFamily(
            "hub_live_coalesced",
            "Changes replaced by a newer one for a slow client",
            live["coalesced"],
        )


def make_registry(ctx: HubContext) -> CollectorRegistry:
    """A registry of its own (not the process-global one) holding the hub's collector."""
    registry = CollectorRegistry()
    registry.register(HubCollector(ctx))
    return registry
