"""Registers to engineering values and back: pure functions, the wire layout drawn here.

A register is 16 bits, sent high byte first ("big-endian", Modbus Application Protocol
§4.2). Multi-register values are laid out by the device's *word order* and *byte order*:

    float32 1234.5 = 0x449A5000            registers sent
    word big,    byte big     "ABCD"       [0x449A, 0x5000]   (most devices, e.g. Eastron)
    word little, byte big     "CDAB"       [0x5000, 0x449A]   (many PLCs, Schneider)
    word big,    byte little  "BADC"       [0x9A44, 0x0050]
    word little, byte little  "DCBA"       [0x0050, 0x9A44]

value = raw * scale + offset; writes invert it and round to the type.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence

from adapters.common.numbers import as_float32, tidy
from adapters.modbus.points import DataType, Order, PointSpec

_STRUCT = {
    DataType.INT16: ">h",
    DataType.UINT16: ">H",
    DataType.INT32: ">i",
    DataType.UINT32: ">I",
    DataType.INT64: ">q",
    DataType.UINT64: ">Q",
    DataType.FLOAT32: ">f",
    DataType.FLOAT64: ">d",
}

_LIMITS = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.UINT64: (0, 2**64 - 1),
}


class DecodeError(ValueError):
    """The registers don't hold a value of the point's type."""


def _to_bytes(registers: Sequence[int], spec: PointSpec) -> bytes:
    words = list(registers)
    if spec.word_order is Order.LITTLE:
        words.reverse()
    if spec.byte_order is Order.LITTLE:
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    return b"".join(w.to_bytes(2, "big") for w in words)


def _from_bytes(data: bytes, spec: PointSpec) -> list[int]:
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    if spec.byte_order is Order.LITTLE:
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    if spec.word_order is Order.LITTLE:
        words.reverse()
    return words


def raw_value(spec: PointSpec, registers: Sequence[int] | Sequence[bool]) -> float | str:
    """The raw (unscaled) value in a point's registers or bits."""
    if len(registers) != spec.width:
        raise DecodeError(f"{spec.id}: expected {spec.width} registers, got {len(registers)}")
    t = spec.type
    if spec.table.is_bits:
        return 1.0 if registers[0] else 0.0
    regs = [int(r) for r in registers]
    if any(not 0 <= r <= 0xFFFF for r in regs):
        raise DecodeError(f"{spec.id}: register out of 16-bit range")
    if t is DataType.BOOL:
        return 1.0 if regs[0] else 0.0
    if t is DataType.BIT:
        assert spec.bit is not None
        return float((regs[0] >> spec.bit) & 1)
    data = _to_bytes(regs, spec)
    if t is DataType.STRING:
        return data.rstrip(b"\x00 ").decode("utf-8", "replace").strip("\x00")
    (value,) = struct.unpack(_STRUCT[t], data)
    return as_float32(value) if t is DataType.FLOAT32 else float(value)


def is_nodata(spec: PointSpec, raw: float | str) -> bool:
    """Whether the raw value is the device's "no value" sentinel (or a float NaN)."""
    if isinstance(raw, str):
        return False
    if math.isnan(raw):
        return True
    return spec.nodata is not None and raw == spec.nodata


def decode(spec: PointSpec, registers: Sequence[int] | Sequence[bool]) -> float | str:
    """The engineering value: raw * scale + offset (strings as they are)."""
    raw = raw_value(spec, registers)
    if isinstance(raw, str):
        return raw
    if spec.scale == 1 and spec.offset == 0:
        return raw
    return tidy(raw * spec.scale + spec.offset)


def encode(spec: PointSpec, value: float) -> list[int] | bool:
    """Registers (or a coil state) that make the point read `value`; ValueError if impossible."""
    if not math.isfinite(value):
        raise ValueError("value must be a finite number")
    if spec.table.is_bits or spec.type is DataType.BOOL:
        return bool(value)
    if spec.type in (DataType.BIT, DataType.STRING):
        raise ValueError(f"type {spec.type} can't be written")
    raw = (value - spec.offset) / spec.scale
    t = spec.type
    if t in (DataType.FLOAT32, DataType.FLOAT64):
        data = struct.pack(_STRUCT[t], raw)
    else:
        lo, hi = _LIMITS[t]
        r = round(raw)
        if not lo <= r <= hi:
            raise ValueError(f"{value} is outside what a {t} can hold")
        data = struct.pack(_STRUCT[t], r)
    return _from_bytes(data, spec)


def resolution(spec: PointSpec) -> float:
    """The smallest step a written value can take (for read-back comparison)."""
    if spec.type in (DataType.FLOAT32, DataType.FLOAT64):
        return abs(spec.scale) * 1e-6 + 1e-6
    return abs(spec.scale)


RawDecoder = Callable[[Sequence[int] | Sequence[bool]], float]

_PACK = {n: struct.Struct(">" + "H" * n) for n in (1, 2, 4)}


def compile_decoder(spec: PointSpec) -> RawDecoder:
    """A fast raw-value decoder for one numeric point (what `raw_value` computes).

    The struct format and the word/byte permutation are worked out once, so polling a
    device decodes each value with one pack and one unpack.
    """
    t = spec.type
    if spec.table.is_bits or t is DataType.BOOL:
        return lambda r: 1.0 if r[0] else 0.0
    if t is DataType.BIT:
        bit = spec.bit or 0
        return lambda r: float((int(r[0]) >> bit) & 1)
    if t is DataType.UINT16 and spec.byte_order is Order.BIG:
        return lambda r: float(r[0])
    if t is DataType.INT16 and spec.byte_order is Order.BIG:
        return lambda r: float(r[0] - 0x10000 if r[0] & 0x8000 else r[0])
    if t is DataType.STRING:
        raise ValueError("strings have no numeric decoder")
    n = spec.width
    order = list(range(n))[::-1] if spec.word_order is Order.LITTLE else list(range(n))
    swap = spec.byte_order is Order.LITTLE
    packer = _PACK[n]
    unpack = struct.Struct(_STRUCT[t]).unpack

    single = t is DataType.FLOAT32

    def dec(r: Sequence[int] | Sequence[bool]) -> float:
        words = [int(r[i]) for i in order]
        if swap:
            words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
        value = unpack(packer.pack(*words))[0]
        return as_float32(value) if single else float(value)

    return dec
