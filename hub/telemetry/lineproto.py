"""InfluxDB line protocol, written fast.

    measurement[,tag=value...] field=value[,field=value...] timestamp

Escaping follows InfluxDB's rules and matches influxdb-client's `Point` byte for byte (a
property test checks that): measurement names escape comma and space; tag keys, tag values
and field keys escape comma, equals sign and space; string field values escape double quote
and backslash; newlines, tabs and carriage returns become \\n, \\t, \\r. Empty tag values are
left out (line protocol can't carry them). Integers get the `i` suffix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_STRING = str.maketrans({'"': r"\"", "\\": r"\\"})

FieldValue = float | int | bool | str


def escape_measurement(name: str) -> str:
    """A measurement name."""
    return name.translate(_MEASUREMENT)


def escape_key(key: str) -> str:
    """A tag key or field key."""
    return key.translate(_KEY)


def escape_tag_value(value: str) -> str:
    """A tag value; a trailing backslash would escape the separator, so it gets a space."""
    out = value.translate(_KEY)
    return out + " " if out.endswith("\\") else out


def format_field(value: FieldValue) -> str:
    """A field value; NaN and infinities are not representable and raise ValueError."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"line protocol can't carry {value}")
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text  # "21.0" -> "21": still a float
    return '"' + value.translate(_STRING) + '"'


def line(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, FieldValue | None],
    timestamp: int,
) -> str:
    """One line; tags sorted by key (InfluxDB's preferred order), None fields left out."""
    head = escape_measurement(measurement)
    for k in sorted(tags):
        v = tags[k]
        if v:
            head += f",{escape_key(k)}={escape_tag_value(v)}"
    body = ",".join(
        f"{escape_key(k)}={format_field(v)}" for k, v in sorted(fields.items()) if v is not None
    )
    if not body:
        raise ValueError("a line needs at least one field")
    return f"{head} {body} {timestamp}"
