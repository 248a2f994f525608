"""Guards walking their patrol routes and cars driving theirs, sent as real devices send.

- Guards' phones publish OwnTracks fixes (`owntracks/<user>/<device>`, QoS 1) and, near a
  checkpoint, the BLE gateway there reports the guard's badge (ESPresense,
  `espresense/devices/<badge>/<gateway>`) — through the MQTT broker.
- Car trackers post Traccar's OsmAnd protocol to the hub over HTTP.

One guard can skip a checkpoint of the round and one car can leave the district: the demo's
missed-patrol and geofence alarms have something to catch. `speed` runs time faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from hub.site import Site

log = logging.getLogger(__name__)
M_PER_DEG = 111_320.0


@dataclass
class Walker:
    """Someone moving along a closed path of (lat, lon) waypoints at a steady speed."""

    subject: str  # OwnTracks user/device or tracker id
    path: list[tuple[float, float]]
    speed_mps: float
    kind: str  # "guard" or "car"
    badge: str | None = None
    stops: dict[int, str] = field(default_factory=dict)  # waypoint index -> gateway id
    position: float = 0.0  # metres along the path

    def _legs(self) -> list[float]:
        out = []
        for (a_lat, a_lon), (b_lat, b_lon) in zip(
            self.path, self.path[1:] + self.path[:1], strict=True
        ):
            dy = (b_lat - a_lat) * M_PER_DEG
            dx = (b_lon - a_lon) * M_PER_DEG * math.cos(math.radians(a_lat))
            out.append(math.hypot(dx, dy))
        return out

    def at(self) -> tuple[float, float, int, float]:
        """(lat, lon, leg index, metres into the leg) at the current position."""
        legs = self._legs()
        total = sum(legs) or 1.0
        d = self.position % total
        for i, length in enumerate(legs):
            if d <= length or i == len(legs) - 1:
                a = self.path[i]
                b = self.path[(i + 1) % len(self.path)]
                f = d / length if length else 0.0
                return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, i, d
            d -= length
        raise AssertionError("unreachable")

    def step(self, seconds: float) -> None:
        """Move on."""
        self.position += self.speed_mps * seconds


class LocationSimulator:
    """Moves the walkers and sends their devices' messages; a hub Component."""

    name = "location_simulator"

    def __init__(
        self,
        walkers: Sequence[Walker],
        *,
        mqtt_host: str,
        mqtt_port: int,
        osmand_url: str,
        tick_s: float = 2.0,
        speed: float = 1.0,
    ) -> None:
        if not osmand_url.startswith(("http://", "https://")):
            raise ValueError("the OsmAnd URL must be http(s)")
        self.walkers = list(walkers)
        self.osmand_url = osmand_url
        self.tick_s, self.speed = tick_s, speed
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id="demo-devices"
        )
        self.mqtt = (mqtt_host, mqtt_port)
        self._task: asyncio.Task[None] | None = None
        self.sent = {"owntracks": 0, "espresense": 0, "osmand": 0, "osmand_refused": 0}

    async def start(self) -> None:
        self.client.connect_async(*self.mqtt)
        self.client.loop_start()
        self._task = asyncio.create_task(self._run(), name="location-sim")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.client.disconnect()
        self.client.loop_stop()

    async def _run(self) -> None:
        while True:
            now = datetime.now(UTC)
            for w in self.walkers:
                before = w.at()
                w.step(self.tick_s * self.speed)
                lat, lon, leg, _ = w.at()
                try:
                    if w.kind == "car":
                        await asyncio.to_thread(self._osmand, w, lat, lon, now)
                    else:
                        self._owntracks(w, lat, lon, now)
                        # reached a waypoint with a gateway: the badge is seen there
                        if leg != before[2] and leg in w.stops and w.badge:
                            self._espresense(w.badge, w.stops[leg], now)
                except Exception as err:  # a device that fails keeps trying, like real ones
                    log.debug("simulated %s could not send: %s", w.subject, err)
            await asyncio.sleep(self.tick_s)

    def _owntracks(self, w: Walker, lat: float, lon: float, now: datetime) -> None:
        payload = {
            "_type": "location",
            "lat": round(lat, 7),
            "lon": round(lon, 7),
            "acc": 5,
            "tst": int(now.timestamp()),
            "vel": round(w.speed_mps * 3.6),
            "tid": w.subject[:2],
        }
        self.client.publish(f"owntracks/{w.subject}", json.dumps(payload), qos=1)
        self.sent["owntracks"] += 1

    def _espresense(self, badge: str, gateway: str, now: datetime) -> None:
        # a gateway reports a badge in reach several times a second; three reports close by
        # are what a checkpoint's default proof asks for
        for lag, distance in ((1.0, 1.2), (0.5, 1.0), (0.0, 1.1)):
            payload = {
                "id": f"iBeacon:{badge}",
                "rssi": -64,
                "distance": distance,
                "close": True,
                "ts": now.timestamp() - lag,
            }
            self.client.publish(
                f"espresense/devices/iBeacon:{badge}/{gateway}", json.dumps(payload), qos=1
            )
            self.sent["espresense"] += 1

    def _osmand(self, w: Walker, lat: float, lon: float, now: datetime) -> None:
        query = urllib.parse.urlencode(
            {
                "id": w.subject,
                "lat": round(lat, 7),
                "lon": round(lon, 7),
                "timestamp": int(now.timestamp()),
                "speed": round(w.speed_mps / 0.514444, 1),
                "accuracy": 5,
            }
        )
        sep = "&" if "?" in self.osmand_url else "?"
        try:
            url = f"{self.osmand_url}{sep}{query}"
            with urllib.request.urlopen(url, data=b"", timeout=5):  # noqa: S310 (http(s) only)
                self.sent["osmand"] += 1
        except urllib.error.HTTPError:
            self.sent["osmand_refused"] += 1

    def health(self) -> dict[str, object]:
        return {
            "status": "ok" if self._task and not self._task.done() else "down",
            "walkers": len(self.walkers),
            "sent": dict(self.sent),
        }


def demo_walkers(
    site: Site, *, skip: tuple[str, str] | None = None, stray_car: str | None = None
) -> list[Walker]:
    """A guard per patrol route (the first one assigned) and every car on a loop.

    `skip` = (guard, checkpoint): that guard walks past without the checkpoint.
    `stray_car`: that car's loop leaves the district boundary.
    """
    checkpoints = {c.id: c for c in site.checkpoints}
    people = {p.id: p for p in site.people}
    walkers = []
    for route in site.patrol_routes:
        if not route.guards:
            continue
        guard = people[route.guards[0]]
        stops = [cp for cp in route.checkpoints if skip is None or skip != (guard.id, cp)]
        path = [(checkpoints[c].location.lat, checkpoints[c].location.lon) for c in stops]
        gateways = {i: checkpoints[c].gateway or c for i, c in enumerate(stops)}
        walkers.append(
            Walker(
                guard.phones[0] if guard.phones else guard.id,
                path,
                1.3,
                "guard",
                badge=guard.badges[0] if guard.badges else None,
                stops={(i - 1) % len(stops): g for i, g in gateways.items()},
            )
        )
    c = site.site.center
    for n, v in enumerate(site.vehicles):
        if not v.tracker:
            continue
        r = 0.01 + 0.004 * n  # a loop a kilometre or so around the compound
        if v.id == stray_car:
            r = 0.06  # out past the district's edge
        path = [(c.lat + r, c.lon), (c.lat, c.lon + r), (c.lat - r, c.lon), (c.lat, c.lon - r)]
        walkers.append(Walker(v.tracker, path, 12.0, "car"))
    return walkers
