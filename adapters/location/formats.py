"""Pure decoders of the location formats real devices speak.

Each takes what arrived (topic and bytes, or HTTP parameters) and returns domain events that
still carry the *device's* ids (an OwnTracks "user/device", a tracker's id, a BLE id and an
ESPresense room); the pipeline's location stage maps them to the site's guards, vehicles and
checkpoints. Malformed input raises DecodeError with a short reason (a metrics label).

- OwnTracks (https://owntracks.org/booklet/tech/json/): topic `owntracks/<user>/<device>`,
  `_type` location (lat, lon, tst, acc, vel km/h, cog), transition (event, lat, lon, tst),
  beacon (uuid, major, minor, rssi, tst). Guards' phones.
- ESPresense: topic `espresense/devices/<device id>/<room>`, JSON {id, rssi, distance,
  close?, ...} (`close`: the gateway's own verdict that the device is near);
  the room is the BLE gateway at a checkpoint, the device id a guard's badge
  (`iBeacon:<uuid>-<major>-<minor>` or a MAC-based id).
- Traccar's OsmAnd protocol (HTTP): id, lat, lon, timestamp (unix seconds or ISO 8601),
  speed (knots), bearing, altitude, accuracy; as a query string / form, or the Traccar
  Client's JSON {device_id, location: {timestamp, coords: {latitude, longitude, speed (m/s),
  heading, accuracy}}}.
- Generic JSON on `hub/ingest/location`: {"id", "lat", "lon", "ts", "accuracy"?, "speed"?
  (m/s), "heading"?} or a list of them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.domain import Event, PositionFix, Sighting, SubjectKind

MAX_PAYLOAD = 64 * 1024  # bytes; real location messages are a few hundred
KNOT = 0.514444  # m/s
KMH = 1 / 3.6


class DecodeError(ValueError):
    """Input that is not what the format says; `reason` is a short label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _json(payload: bytes) -> Any:
    if len(payload) > MAX_PAYLOAD:
        raise DecodeError("oversized", f"{len(payload)} bytes")
    try:
        return orjson.loads(payload)  # the fast path, for what devices usually send
    except orjson.JSONDecodeError:
        pass  # stdlib json tells why, and reads NaN (some devices send it: not_finite below)
    try:
        return json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise DecodeError("not_utf8") from err
    except (json.JSONDecodeError, RecursionError) as err:
        raise DecodeError("not_json", str(err)[:80]) from err


def _finite(value: Any, key: str) -> float:
    try:
        number = float(value)
    except OverflowError as err:  # a 400-digit JSON integer
        raise DecodeError("not_finite", key) from err
    if not math.isfinite(number):
        raise DecodeError("not_finite", key)
    return number


def _num(obj: Mapping[str, Any], key: str, *, required: bool = True) -> float | None:
    value = obj.get(key)
    kind = type(value)
    if kind is float or kind is int:  # the usual case first (bool is not int here)
        return _finite(value, key)
    if value is None or value == "":
        if required:
            raise DecodeError("missing_field", key)
        return None
    if isinstance(value, bool):
        raise DecodeError("wrong_type", key)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError as err:
            raise DecodeError("wrong_type", key) from err
    if not isinstance(value, int | float):
        raise DecodeError("wrong_type", key)
    return _finite(value, key)


def _time(value: Any, key: str = "tst") -> datetime:
    if value is None or value == "":
        raise DecodeError("missing_field", key)
    if isinstance(value, str) and not value.replace(".", "", 1).isdigit():
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as err:
            raise DecodeError("bad_time", key) from err
        if ts.tzinfo is None:
            raise DecodeError("bad_time", f"{key} has no time zone")
        return ts.astimezone(UTC)
    seconds = _num({key: value}, key)
    assert seconds is not None
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise DecodeError("bad_time", key) from err


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise DecodeError("not_object")
    return data


def decode_owntracks(topic: str, payload: bytes, source: str = "owntracks") -> list[Event]:
    """An OwnTracks message: a fix, a region transition, or a beacon the phone sees."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != "owntracks" or not parts[1] or not parts[2]:
        raise DecodeError("bad_topic", topic[:80])
    if len(parts) > 3:
        return []  # owntracks/<user>/<device>/event, /info, /cmd: not locations
    phone = f"{parts[1]}/{parts[2]}"
    msg = _object(_json(payload))
    kind = msg.get("_type")
    if kind in ("location", "transition"):
        if kind == "transition" and (msg.get("lat") is None or msg.get("lon") is None):
            return []  # a region event without a position
        vel = _num(msg, "vel", required=False)
        return [
            PositionFix(
                subject_id=phone,
                subject_kind=SubjectKind.PERSON,
                ts=_time(msg.get("tst")),
                source=source,
                lat=_num(msg, "lat"),
                lon=_num(msg, "lon"),
                accuracy_m=_num(msg, "acc", required=False),
                speed_mps=vel * KMH if vel is not None and vel >= 0 else None,
                heading_deg=_num(msg, "cog", required=False),
            )
        ]
    if kind == "beacon":
        uuid = msg.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            raise DecodeError("missing_field", "uuid")
        major, minor = _num(msg, "major"), _num(msg, "minor")
        beacon = f"{uuid.lower()}-{int(major or 0)}-{int(minor or 0)}"
        return [
            Sighting(
                badge_id=phone,
                checkpoint_id=beacon,
                ts=_time(msg.get("tst")),
                source=source,
                rssi=_num(msg, "rssi", required=False),
                distance_m=_num(msg, "acc", required=False),
            )
        ]
    if kind in ("lwt", "card", "waypoint", "waypoints", "status", "cmd", "steps", "encrypted"):
        return []  # not locations
    raise DecodeError("unknown_type", str(kind)[:40])


def decode_espresense(topic: str, payload: bytes, source: str = "espresense") -> list[Event]:
    """An ESPresense report: a BLE device (badge) seen by a room's gateway (checkpoint)."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[:2] != ["espresense", "devices"] or not parts[2] or not parts[3]:
        raise DecodeError("bad_topic", topic[:80])
    msg = _object(_json(payload))
    badge = str(msg.get("id") or parts[2])
    if badge.startswith("iBeacon:"):
        badge = badge.removeprefix("iBeacon:").lower()
    ts = _time(msg["ts"], "ts") if msg.get("ts") is not None else datetime.now(UTC)
    return [
        Sighting(
            badge_id=badge,
            checkpoint_id=parts[3],
            ts=ts,
            source=source,
            rssi=_num(msg, "rssi", required=False),
            distance_m=_num(msg, "distance", required=False),
            close=msg["close"] if isinstance(msg.get("close"), bool) else None,
        )
    ]


def decode_osmand(params: Mapping[str, Any], source: str = "osmand") -> list[Event]:
    """Traccar's OsmAnd protocol: query/form parameters, or the Traccar Client's JSON body."""
    if "location" in params and isinstance(params["location"], dict):  # the JSON form
        loc = params["location"]
        coords = _object(loc.get("coords"))
        device = params.get("device_id")
        if not isinstance(device, str) or not device:
            raise DecodeError("missing_field", "device_id")
        return [
            PositionFix(
                subject_id=device,
                subject_kind=SubjectKind.VEHICLE,
                ts=_time(loc.get("timestamp"), "timestamp"),
                source=source,
                lat=_num(coords, "latitude"),
                lon=_num(coords, "longitude"),
                accuracy_m=_num(coords, "accuracy", required=False),
                speed_mps=_num(coords, "speed", required=False),
                heading_deg=_num(coords, "heading", required=False),
            )
        ]
    device = params.get("id") or params.get("deviceid")
    if not isinstance(device, str) or not device:
        raise DecodeError("missing_field", "id")
    lat, lon = _num(params, "lat"), _num(params, "lon")
    if params.get("location") and (lat is None or lon is None):  # "lat,lon" in one field
        raise DecodeError("missing_field", "lat")
    speed = _num(params, "speed", required=False)
    return [
        PositionFix(
            subject_id=device,
            subject_kind=SubjectKind.VEHICLE,
            ts=_time(params.get("timestamp"), "timestamp")
            if params.get("timestamp")
            else datetime.now(UTC),
            source=source,
            lat=lat,
            lon=lon,
            accuracy_m=_num(params, "accuracy", required=False)
            or _num(params, "hdop", required=False),
            speed_mps=speed * KNOT if speed is not None else None,
            heading_deg=_num(params, "bearing", required=False)
            or _num(params, "heading", required=False),
        )
    ]


def decode_generic(payload: bytes, source: str = "generic") -> list[Event]:
    """The hub's generic location JSON: one fix or a list of fixes."""
    data = _json(payload)
    items = data if isinstance(data, list) else [data]
    if len(items) > 1000:
        raise DecodeError("oversized", f"{len(items)} fixes")
    out: list[Event] = []
    for raw in items:
        msg = _object(raw)
        subject = msg.get("id")
        if not isinstance(subject, str) or not subject:
            raise DecodeError("missing_field", "id")
        out.append(
            PositionFix(
                subject_id=subject,
                subject_kind=SubjectKind.PERSON,
                ts=_time(msg.get("ts"), "ts"),
                source=source,
                lat=_num(msg, "lat"),
                lon=_num(msg, "lon"),
                accuracy_m=_num(msg, "accuracy", required=False),
                speed_mps=_num(msg, "speed", required=False),
                heading_deg=_num(msg, "heading", required=False),
            )
        )
    return out


def decode_topic(topic: str, payload: bytes) -> tuple[str, list[Event]]:
    """(format, events) of an MQTT message by its topic; DecodeError for anything else."""
    if topic.startswith("owntracks/"):
        return "owntracks", decode_owntracks(topic, payload)
    if topic.startswith("espresense/devices/"):
        return "espresense", decode_espresense(topic, payload)
    if topic.startswith("hub/ingest/location"):
        return "generic", decode_generic(payload)
    raise DecodeError("unknown_topic", topic[:80])
