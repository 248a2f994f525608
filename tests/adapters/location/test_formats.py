"""Recorded payloads of each format decode to the right events; garbage never crashes."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.location import (
    DecodeError,
    decode_espresense,
    decode_generic,
    decode_osmand,
    decode_owntracks,
    decode_topic,
)
from hub.domain import PositionFix, Sighting

# As OwnTracks 2.4 for Android publishes them (trimmed of nothing).
OWNTRACKS_LOCATION = (
    b'{"_type":"location","acc":10,"alt":16,"batt":93,"bs":1,"conn":"w","created_at":1796000123,'
    b'"lat":30.26012,"lon":120.13055,"m":1,"tid":"g1","tst":1796000120,"vac":3,"vel":4,"cog":90}'
)
OWNTRACKS_TRANSITION = (
    b'{"_type":"transition","acc":10,"desc":"\xe5\x8d\x97\xe5\xa4\xa7\xe9\x97\xa8","event":"enter",'
    b'"lat":30.259,"lon":120.1306,"rid":"a1b2","t":"c","tid":"g1","tst":1796000100,"wtst":1690000000}'
)
OWNTRACKS_BEACON = (
    b'{"_type":"beacon","acc":2,"desc":"cp1","major":2,"minor":1,"prox":1,"rssi":-63,'
    b'"tst":1796000130,"uuid":"FDA50693-A4E2-4FB1-AFCF-C6EB07647825"}'
)
ESPRESENSE = (
    b'{"id":"iBeacon:fda50693-a4e2-4fb1-afcf-c6eb07647825-1-1","idType":15,"rssi@1m":-59,'
    b'"rssi":-71,"raw":1.93,"distance":1.62,"speed":0.02,"mac":"e2:1c:6a:00:4b:10","interval":1015}'
)
TRACCAR_CLIENT_JSON = {
    "location": {
        "timestamp": "2026-11-01T08:00:00.000Z",
        "coords": {
            "latitude": 30.26,
            "longitude": 120.13,
            "accuracy": 5,
            "speed": 5.4,
            "heading": 90,
            "altitude": 10,
        },
        "is_moving": True,
        "odometer": 1000,
        "event": "motionchange",
        "battery": {"level": 0.8, "is_charging": False},
        "activity": {"type": "in_vehicle"},
    },
    "device_id": "860000000000002",
}


def test_owntracks_location_transition_and_beacon() -> None:
    (fix,) = decode_owntracks("owntracks/wang/phone1", OWNTRACKS_LOCATION)
    assert isinstance(fix, PositionFix)
    assert (fix.subject_id, fix.lat, fix.lon, fix.accuracy_m) == (
        "wang/phone1",
        30.26012,
        120.13055,
        10,
    )
    assert fix.ts == datetime.fromtimestamp(1796000120, UTC)
    assert fix.speed_mps == pytest.approx(4 / 3.6)
    (moved,) = decode_owntracks("owntracks/wang/phone1", OWNTRACKS_TRANSITION)
    assert isinstance(moved, PositionFix)
    assert moved.lat == 30.259
    (seen,) = decode_owntracks("owntracks/wang/phone1", OWNTRACKS_BEACON)
    assert isinstance(seen, Sighting)
    assert seen.checkpoint_id == "fda50693-a4e2-4fb1-afcf-c6eb07647825-2-1"
    assert seen.badge_id == "wang/phone1"
    assert decode_owntracks("owntracks/wang/phone1", b'{"_type":"lwt","tst":1}') == []
    assert decode_owntracks("owntracks/wang/phone1/event", OWNTRACKS_TRANSITION) == []


def test_espresense_sighting_of_a_badge_at_a_room() -> None:
    topic = "espresense/devices/iBeacon:fda50693-a4e2-4fb1-afcf-c6eb07647825-1-1/cp-main-gate"
    (s,) = decode_espresense(topic, ESPRESENSE)
    assert isinstance(s, Sighting)
    assert (s.badge_id, s.checkpoint_id, s.rssi, s.distance_m) == (
        "fda50693-a4e2-4fb1-afcf-c6eb07647825-1-1",
        "cp-main-gate",
        -71,
        1.62,
    )


def test_espresense_close_verdict_is_kept_only_when_it_is_a_boolean() -> None:
    topic = "espresense/devices/iBeacon:fda50693-a4e2-4fb1-afcf-c6eb07647825-1-1/cp-parking"
    far = b'{"id": "x", "rssi": -88, "distance": 15.2, "close": false}'
    (s,) = decode_espresense(topic, far)
    assert (s.distance_m, s.close) == (15.2, False)  # type: ignore[union-attr]
    (s,) = decode_espresense(topic, b'{"id": "x", "rssi": -60, "close": true}')
    assert s.close is True  # type: ignore[union-attr]
    (s,) = decode_espresense(topic, b'{"id": "x", "rssi": -60, "close": "yes"}')
    assert s.close is None  # type: ignore[union-attr]
    assert ESPRESENSE  # the plain report: no verdict either way


def test_osmand_query_form_and_traccar_client_json() -> None:
    (fix,) = decode_osmand(
        {
            "id": "860000000000001",
            "timestamp": "1796000200",
            "lat": "30.2601",
            "lon": "120.1306",
            "speed": "10",
            "bearing": "88",
            "accuracy": "5",
        }
    )
    assert isinstance(fix, PositionFix)
    assert fix.speed_mps == pytest.approx(5.14444)  # knots
    assert (fix.subject_id, fix.heading_deg) == ("860000000000001", 88)
    (js,) = decode_osmand(TRACCAR_CLIENT_JSON)
    assert isinstance(js, PositionFix)
    assert js.ts == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert (js.subject_id, js.speed_mps) == ("860000000000002", 5.4)


def test_generic_json_one_or_many() -> None:
    one = decode_generic(
        b'{"id": "x", "lat": 30.1, "lon": 120.1, "ts": "2026-11-01T08:00:00+08:00"}'
    )
    assert one[0].ts == datetime(2026, 11, 1, 0, tzinfo=UTC)
    many = decode_generic(
        json.dumps([{"id": "x", "lat": 1, "lon": 2, "ts": 1796000000}] * 3).encode()
    )
    assert len(many) == 3


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("owntracks/u/d", b"not json", "not_json"),
        ("owntracks/u/d", b"\xff\xfe", "not_utf8"),
        ("owntracks/u/d", b"[1, 2]", "not_object"),
        ("owntracks/u/d", b'{"_type": "teleport"}', "unknown_type"),
        ("owntracks/u/d", b'{"_type": "location", "lon": 1, "tst": 1}', "missing_field"),
        (
            "owntracks/u/d",
            b'{"_type": "location", "lat": "north", "lon": 1, "tst": 1}',
            "wrong_type",
        ),
        ("owntracks/u/d", b'{"_type": "location", "lat": NaN, "lon": 1, "tst": 1}', "not_finite"),
        ("owntracks/u", b"{}", "bad_topic"),
        ("owntracks/u/d", b" " * 70_000, "oversized"),
        ("espresense/devices/x", b"{}", "bad_topic"),
        ("somewhere/else", b"{}", "unknown_topic"),
    ],
)
def test_malformed_input_is_a_decode_error_with_a_reason(
    topic: str, payload: bytes, reason: str
) -> None:
    with pytest.raises(DecodeError) as err:
        decode_topic(topic, payload)
    assert err.value.reason == reason


def test_latitude_200_decodes_and_is_left_to_the_pipeline_to_refuse() -> None:
    (fix,) = decode_owntracks(
        "owntracks/u/d", b'{"_type":"location","lat":200,"lon":1,"tst":1796000000}'
    )
    assert isinstance(fix, PositionFix)
    assert fix.lat == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=20,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "_type": st.sampled_from(["location", "transition", "beacon", "x"]) | json_values,
        "lat": json_values,
        "lon": json_values,
        "tst": json_values,
        "acc": json_values,
        "vel": json_values,
        "uuid": json_values,
        "major": json_values,
        "minor": json_values,
        "id": json_values,
        "rssi": json_values,
        "distance": json_values,
        "ts": json_values,
    },
)
topics = st.sampled_from(
    [
        "owntracks/u/d",
        "espresense/devices/b/r",
        "hub/ingest/location",
        "owntracks/u/d/x",
        "owntracks//",
        "espresense/devices//",
    ]
)


@settings(max_examples=400, deadline=None)
@given(topic=topics, payload=st.binary(max_size=300) | fields.map(lambda d: json.dumps(d).encode()))
def test_no_input_crashes_any_mqtt_decoder(topic: str, payload: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_topic(topic, payload)


@settings(max_examples=300, deadline=None)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "id",
                "lat",
                "lon",
                "timestamp",
                "speed",
                "bearing",
                "accuracy",
                "location",
                "device_id",
            ]
        ),
        json_values,
        max_size=8,
    )
)
def test_no_input_crashes_the_osmand_decoder(params: dict[str, object]) -> None:
    with contextlib.suppress(DecodeError):
        decode_osmand(params)
