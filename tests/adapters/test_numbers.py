"""Values as the device meant them: no float32 or scaling noise, and nothing else changed."""

from __future__ import annotations

import struct
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from adapters.common.numbers import as_float32, tidy
from adapters.modbus.decoders import decode
from adapters.modbus.points import PointSpec
from tests.support.fuzz import fuzz


def registers(value: float) -> list[int]:
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi, lo]


def test_a_float32_voltage_reads_as_the_meter_shows_it() -> None:
    spec = PointSpec(id="v", address=0, table="input", type="float32", unit="V")
    assert decode(spec, registers(230.1)) == 230.1  # not 230.10000610351562
    scaled = PointSpec(id="t", address=0, table="holding", type="uint16", scale=0.1, unit="°C")
    assert decode(scaled, [2301]) == 230.1  # not 230.10000000000002


@fuzz(500)
@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_the_shortest_form_is_the_same_float32(value: float) -> None:
    short = as_float32(value)
    assert struct.pack(">f", short) == struct.pack(">f", value)
    # never more significant digits than the float32 needs (nine), often far fewer
    assert len(Decimal(repr(short)).normalize().as_tuple().digits) <= 9


@fuzz(500)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_tidying_changes_a_value_by_less_than_its_twelfth_digit(value: float) -> None:
    assert abs(tidy(value) - value) <= abs(value) * 1e-11
