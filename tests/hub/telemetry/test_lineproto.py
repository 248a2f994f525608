"""Line protocol: the fast serialiser writes what influxdb-client's Point writes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from influxdb_client.client.write.point import Point

from hub.telemetry.lineproto import format_field, line

names = st.text(min_size=1, max_size=20).filter(lambda s: not s.startswith("#"))
tag_values = st.text(min_size=1, max_size=20)
field_values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.text(max_size=20),
)


@given(
    measurement=names,
    tags=st.dictionaries(names, tag_values, max_size=4),
    fields=st.dictionaries(names, field_values, min_size=1, max_size=4),
    ts=st.integers(min_value=0, max_value=2**62),
)
def test_lines_match_influxdb_client(measurement, tags, fields, ts) -> None:  # type: ignore[no-untyped-def]
    p = Point(measurement).time(ts, write_precision="us")
    for k, v in tags.items():
        p = p.tag(k, v)
    for k, v in fields.items():
        p = p.field(k, v)
    expected = p.to_line_protocol(precision="us")
    assert line(measurement, tags, fields, ts) == expected


def test_chinese_names_spaces_commas_equals_and_quotes() -> None:
    got = line(
        "reading",
        {"building": "1号楼 东区", "point": "a,b=c", "empty": ""},
        {"value": 1.5, "note": 'he said "hi" \\ bye', "n": 2.0},
        1,
    )
    assert got == (
        r"reading,building=1号楼\ 东区,point=a\,b\=c "
        r'n=2,note="he said \"hi\" \\ bye",value=1.5 1'
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="can't carry"):
        format_field(bad)
