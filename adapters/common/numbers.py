"""Numbers as the device meant them.

A float32 register holding 230.1 decodes to 230.10000610351562 as a Python float, and a
register of 2301 scaled by 0.1 to 230.10000000000002: digits no device measured. A float32
holds about seven significant digits: the seven-digit decimal is what the device holds when
it reads back as the same float32 (nine digits always do); after scaling, twelve significant
digits keep everything a building's instruments resolve.
"""

from __future__ import annotations

import math
import struct

_F32 = struct.Struct(">f").pack


def as_float32(value: float) -> float:
    """The float32 `value` as its (seven-, else nine-digit) decimal: 230.10000610351562 ->
    230.1; never a different float32."""
    try:
        target = _F32(value)
    except OverflowError:  # beyond float32: not a float32 value at all
        return value
    short = float(f"{value:.7g}")
    if _F32(short) == target:
        return short
    return float(f"{value:.9g}") if math.isfinite(value) else value


def tidy(value: float) -> float:
    """`value` without the float64 arithmetic noise of scaling (12 significant digits)."""
    return float(f"{value:.12g}") if math.isfinite(value) else value
