"""Events travel between hub workers as JSON: every kind comes back equal, and anything that
is not an encoded event is refused with CodecError, never another exception."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain import (
    AlarmEvent,
    Command,
    DeviceStatus,
    GateDirection,
    GateEvent,
    Notice,
    PositionFix,
    Quality,
    Reading,
    Sighting,
    SubjectKind,
    TicketEvent,
)
from hub.domain.codec import CodecError, decode, encode
from tests.support.fuzz import fuzz

TS = datetime(2026, 11, 27, 3, 10, 5, 123456, tzinfo=UTC)

EVERY_KIND = [
    Reading("b1.ahu1.supply_temp", 18.5, "°C", TS, Quality.UNCERTAIN),
    DeviceStatus("ahu-1", False, TS, fault=True, detail="timeout"),
    PositionFix("car-1", SubjectKind.VEHICLE, TS, "owntracks", lat=31.2, lon=121.5, speed_mps=3.0),
    PositionFix("g-01", SubjectKind.GUARD, TS, "espresense", x=12.0, y=4.5, floor="1F"),
    Sighting("badge-7", "cp-north", TS, "espresense", rssi=-70.0, subject_id="g-01"),
    GateEvent("main", GateDirection.IN, True, TS, "plate", subject="沪A12345", reason="visit"),
    AlarmEvent("17", "geofence", "car-1", "ACTIVE_UNACK", "major", TS, "出围栏", "raised", "r1"),
    TicketEvent("T-3", "opened", "open", "hvac", "P2", "空调故障", TS, notify=("zhang", "li")),
    Notice("visit.arrived", "访客到达", "王先生已到达", TS, notify=("zhang",), key="v-1"),
    Command("b1.ahu1.setpoint", "write", TS, value=24.0, requested_by="ops", params={"a": 1}),
]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: e.kind)
def test_every_kind_of_event_comes_back_equal(event: object) -> None:
    assert decode(encode([event])) == [event]  # type: ignore[list-item]


def test_a_time_in_another_zone_stays_the_same_instant() -> None:
    local = TS.astimezone(timezone(timedelta(hours=8)))
    (back,) = decode(encode([Reading("p", 1.0, "kWh", local)]))
    assert back.ts == TS


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{}", "array"),
        (b'[{"k": "teleport"}]', "unknown event kind"),
        (b'[{"k": "reading", "point_id": "p", "value": 1, "unit": "", "ts": "x"}]', "bad ts"),
        (b'[{"k": "reading", "point_id": "p", "value": 1, "unit": ""}]', "bad reading"),
        (
            b'[{"k": "reading", "point_id": "p", "value": "hot", "unit": "",'
            b' "ts": "2026-11-27T00:00:00+00:00"}]',
            "bad value",
        ),
        (
            b'[{"k": "reading", "point_id": "p", "value": true, "unit": "",'
            b' "ts": "2026-11-27T00:00:00+00:00"}]',
            "bad value",
        ),
        (
            b'[{"k": "reading", "point_id": "p", "value": 1, "unit": "",'
            b' "ts": "2026-11-27T00:00:00"}]',
            "bad reading",  # a naive time
        ),
        (b'[{"k": "status", "device_id": "d", "online": 1, "ts": "2026-11-27T00:00:00Z"}]', "bad"),
        (b'[{"k": "gate", "direction": "sideways"}]', "bad direction"),
        (b'[{"k": "reading", "evil": 1}]', "unknown fields"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_what_is_not_an_event_is_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        decode(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "k",
        "ts",
        "point_id",
        "value",
        "unit",
        "quality",
        "subject_id",
        "subject_kind",
        "source",
        "lat",
        "lon",
        "x",
        "y",
        "notify",
        "direction",
        "allowed",
        "online",
        "params",
    ]
)
kinds = st.sampled_from([e.kind for e in EVERY_KIND] + ["", "x"])


@fuzz(400)
@given(
    st.lists(
        st.dictionaries(field_names, json_values, max_size=8).flatmap(
            lambda d: kinds.map(lambda k: {**d, "k": k})
        ),
        max_size=3,
    )
)
def test_any_json_decodes_to_events_or_codec_error(batch: list[dict[str, object]]) -> None:
    try:
        events = decode(json.dumps(batch).encode())
    except CodecError:
        return
    assert decode(encode(events)) == events


@fuzz(300)
@given(st.binary(max_size=200))
def test_any_bytes_decode_to_events_or_codec_error(payload: bytes) -> None:
    with contextlib.suppress(CodecError):
        decode(payload)
