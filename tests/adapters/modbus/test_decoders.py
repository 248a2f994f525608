"""Registers to values and back, for every type and word/byte order (pure)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.modbus.decoders import decode, encode, is_nodata, raw_value
from adapters.modbus.points import DataType, Order, PointSpec, Table


def spec(**kw: object) -> PointSpec:
    return PointSpec.model_validate({"id": "p", "address": 0, **kw})


# float32 1234.5 = 0x449A5000, drawn in decoders.py
@pytest.mark.parametrize(
    ("word", "byte", "registers"),
    [
        ("big", "big", [0x449A, 0x5000]),
        ("little", "big", [0x5000, 0x449A]),
        ("big", "little", [0x9A44, 0x0050]),
        ("little", "little", [0x0050, 0x9A44]),
    ],
)
def test_float32_in_every_order(word: str, byte: str, registers: list[int]) -> None:
    s = spec(type="float32", word_order=word, byte_order=byte)
    assert decode(s, registers) == 1234.5
    assert encode(s, 1234.5) == registers


@pytest.mark.parametrize(
    ("dtype", "registers", "value"),
    [
        ("int16", [0xFFFE], -2),
        ("uint16", [0xFFFE], 65534),
        ("int32", [0xFFFF, 0xFFFE], -2),
        ("uint32", [0x0001, 0x0000], 65536),
        ("int64", [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], -1),
        ("uint64", [0x0000, 0x0000, 0x0001, 0x0000], 65536),
        ("float64", [0x4093, 0x4A00, 0x0000, 0x0000], 1234.5),
    ],
)
def test_each_type_decodes(dtype: str, registers: list[int], value: float) -> None:
    assert decode(spec(type=dtype), registers) == value


def test_little_word_order_for_32_and_64_bit_integers() -> None:
    assert decode(spec(type="uint32", word_order="little"), [0x0000, 0x0001]) == 65536
    assert decode(spec(type="int64", word_order="little"), [0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF]) == -2


def test_scale_offset_bits_bools_and_strings() -> None:
    assert decode(spec(type="int16", scale=0.1), [215]) == pytest.approx(21.5)
    assert decode(spec(type="uint16", scale=0.5, offset=-40), [100]) == 10.0
    status = [0b0000_0000_0000_0110]
    assert [decode(spec(type="bit", bit=b), status) for b in range(4)] == [0, 1, 1, 0]
    assert decode(spec(type="bool"), [7]) == 1.0
    assert decode(spec(table="coil", type="bool"), [True]) == 1.0
    assert decode(spec(type="string", length=3), [0x534E, 0x3132, 0x3300]) == "SN123"


def test_nodata_sentinels_and_nan() -> None:
    s = spec(type="int16", nodata=-32768)
    assert is_nodata(s, raw_value(s, [0x8000]))
    f = spec(type="float32")
    assert is_nodata(f, raw_value(f, [0x7FC0, 0x0000]))  # NaN
    assert not is_nodata(s, raw_value(s, [0]))


def test_writes_refuse_what_the_type_cannot_hold() -> None:
    with pytest.raises(ValueError, match="outside"):
        encode(spec(type="int16", scale=0.1), 5000.0)
    with pytest.raises(ValueError, match="finite"):
        encode(spec(type="float32"), math.inf)
    assert encode(spec(type="int16", scale=0.1), 21.5) == [215]
    assert encode(spec(table="coil", type="bool"), 1.0) is True


@given(
    dtype=st.sampled_from(
        [
            DataType.INT16,
            DataType.UINT16,
            DataType.INT32,
            DataType.UINT32,
            DataType.FLOAT32,
            DataType.FLOAT64,
        ]
    ),
    word=st.sampled_from(list(Order)),
    byte=st.sampled_from(list(Order)),
    raw=st.integers(min_value=0, max_value=30000),
)
def test_encode_then_decode_round_trips(
    dtype: DataType, word: Order, byte: Order, raw: int
) -> None:
    s = spec(type=dtype.value, word_order=word.value, byte_order=byte.value, scale=0.1)
    registers = encode(s, raw * 0.1)
    assert isinstance(registers, list)
    assert decode(s, registers) == pytest.approx(raw * 0.1, rel=1e-6)
    assert s.table is Table.HOLDING


@given(
    dtype=st.sampled_from([t for t in DataType if t is not DataType.STRING]),
    word=st.sampled_from(list(Order)),
    byte=st.sampled_from(list(Order)),
    registers=st.lists(st.integers(min_value=0, max_value=0xFFFF), min_size=4, max_size=4),
    bit=st.integers(min_value=0, max_value=15),
)
def test_the_compiled_decoder_agrees_with_the_reference(  # type: ignore[no-untyped-def]
    dtype, word, byte, registers, bit
) -> None:
    from adapters.modbus.decoders import compile_decoder

    s = spec(
        type=dtype.value,
        word_order=word.value,
        byte_order=byte.value,
        **({"bit": bit} if dtype is DataType.BIT else {}),
    )
    regs = registers[: s.width]
    expected = raw_value(s, regs)
    got = compile_decoder(s)(regs)
    assert got == expected or (math.isnan(got) and math.isnan(expected))  # type: ignore[arg-type]
