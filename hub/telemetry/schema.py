"""The telemetry schema: how domain events become InfluxDB series, shared by every backend.

| measurement     | tags                                           | fields                        |
|-----------------|------------------------------------------------|-------------------------------|
| `reading`       | site, building, floor, device, point, unit     | value (float), q (int 0/1/2)  |
| `device_status` | site, building, device                         | online, fault (bool), detail  |
| `position`      | site, subject, subject_kind                    | lat, lon, x, y, accuracy,     |
|                 |                                                | speed, heading (float),       |
|                 |                                                | floor, zone, source (string)  |
| `sighting`      | site, badge, checkpoint                        | rssi, distance (float),       |
|                 |                                                | source (string)               |

Tags are bounded by the site model (points, devices, subjects, badges, checkpoints): no free
text or per-event ids. What changes per sample (quality, zone, floor, source, detail) is a
field, so a series never splits. Timestamps are microseconds (`precision=u`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hub.domain import DeviceStatus, Event, PositionFix, Quality, Reading, Sighting
from hub.telemetry.lineproto import line

QUALITY_CODE = {Quality.GOOD: 0, Quality.UNCERTAIN: 1, Quality.BAD: 2}
CODE_QUALITY = {v: k for k, v in QUALITY_CODE.items()}


class Measurement(enum.StrEnum):
    """The measurements the hub writes."""

    READING = "reading"
    DEVICE_STATUS = "device_status"
    POSITION = "position"
    SIGHTING = "sighting"


# Tags a point, device or site series may be grouped by in aggregate queries.
GROUP_TAGS = ("point", "device", "building", "floor")


@dataclass(frozen=True, slots=True)
class Tags:
    """Tags of the series the site knows, by point and device id."""

    site: str
    points: Mapping[str, Mapping[str, str]]
    devices: Mapping[str, Mapping[str, str]]
    # "reading,<escaped tags>" by (point, unit): a point's tags are the same for every sample,
    # so each series is escaped once (this is most of the serialisation cost).
    _heads: dict[tuple[str, str], str] = field(default_factory=dict, compare=False)

    def reading_head(self, point_id: str, unit: str) -> str:
        """The measurement and tag part of a reading's line."""
        key = (point_id, unit)
        head = self._heads.get(key)
        if head is None:
            sample = line(Measurement.READING, self.point(point_id, unit), {"v": 0.0}, 0)
            head = sample[: sample.rindex(" v=0 ")]
            if len(self._heads) < 1_000_000:  # bounded: ids come from the site model
                self._heads[key] = head
        return head

    def point(self, point_id: str, unit: str) -> dict[str, str]:
        """The tags of a point's series (a point the site doesn't know keeps only its ids)."""
        known = self.points.get(point_id)
        if known is not None:
            return {"site": self.site, **known, "unit": unit}
        device = point_id.split(".", 1)[0]
        return {"site": self.site, "device": device, "point": point_id, "unit": unit}

    def device(self, device_id: str) -> dict[str, str]:
        """The tags of a device's status series."""
        return {"site": self.site, **self.devices.get(device_id, {"device": device_id})}


def to_us(ts_seconds: float) -> int:
    """Seconds to integer microseconds."""
    return round(ts_seconds * 1_000_000)


def event_line(event: Event, tags: Tags, ts_us: int) -> str | None:
    """One event as a line of line protocol, or None for events that aren't telemetry."""
    match event:
        case Reading():
            head = tags.reading_head(event.point_id, event.unit)
            text = repr(float(event.value))  # finite: the pipeline refused NaN and inf
            if text.endswith(".0"):
                text = text[:-2]
            return f"{head} q={QUALITY_CODE[event.quality]}i,value={text} {ts_us}"
        case DeviceStatus():
            return line(
                Measurement.DEVICE_STATUS,
                tags.device(event.device_id),
                {"online": event.online, "fault": event.fault, "detail": event.detail},
                ts_us,
            )
        case PositionFix():
            return line(
                Measurement.POSITION,
                {
                    "site": tags.site,
                    "subject": event.subject_id,
                    "subject_kind": event.subject_kind.value,
                },
                {
                    "lat": event.lat,
                    "lon": event.lon,
                    "x": event.x,
                    "y": event.y,
                    "floor": event.floor,
                    "accuracy": event.accuracy_m,
                    "speed": event.speed_mps,
                    "heading": event.heading_deg,
                    "zone": event.zone_id,
                    "source": event.source,
                },
                ts_us,
            )
        case Sighting():
            return line(
                Measurement.SIGHTING,
                {"site": tags.site, "badge": event.badge_id, "checkpoint": event.checkpoint_id},
                {"rssi": event.rssi, "distance": event.distance_m, "source": event.source},
                ts_us,
            )
        case _:
            return None


def series_meta(
    site_id: str, devices: Sequence[tuple[str, str | None, str | None, Sequence[str]]]
) -> Tags:
    """Tags from (device id, building, floor, point ids) rows of the site model."""
    points: dict[str, dict[str, str]] = {}
    devs: dict[str, dict[str, str]] = {}
    for device_id, building, floor, point_ids in devices:
        base = {"device": device_id}
        if building:
            base["building"] = building
        if floor:
            base["floor"] = floor
        devs[device_id] = dict(base)
        for pid in point_ids:
            points[pid] = {**base, "point": pid}
    return Tags(site_id, points, devs)
