"""Domain events as JSON, for hub workers telling each other what they accepted.

    {"k": "position", "ts": "2026-11-27T03:10:00+00:00", "subject_id": "car-1", ...}

`k` is the event's kind; `ts` is ISO 8601 with its offset; enums travel as their values;
every other field as JSON has it. `decode` checks as much as the constructors do and raises
`CodecError` (never anything else) for any input that is not an encoded event: a worker
skips and counts what it cannot read instead of stopping.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime
from typing import Any

from hub.domain.events import Event, GateDirection, Quality, SubjectKind

TYPES: dict[str, type[Any]] = {t.kind: t for t in typing.get_args(Event)}  # every kind there is
_ENUMS: dict[str, type[Any]] = {
    "quality": Quality,
    "subject_kind": SubjectKind,
    "direction": GateDirection,
}
_TUPLES = frozenset({"notify"})
_JSON: dict[type[Any], tuple[type[Any], ...]] = {
    str: (str,),
    float: (int, float),
    int: (int,),
    bool: (bool,),
    dict: (dict,),
    type(None): (type(None),),
}


def _accepts(hint: Any) -> tuple[type[Any], ...]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return tuple(t for arg in typing.get_args(hint) for t in _accepts(arg))
    return _JSON.get(typing.get_origin(hint) or hint, (object,))


# kind -> field -> the JSON types it may hold, from the dataclasses' annotations
_CHECKS = {
    k: {f.name: _accepts(hints[f.name]) for f in dataclasses.fields(t)}
    for k, t in TYPES.items()
    for hints in [typing.get_type_hints(t)]
}


class CodecError(ValueError):
    """Not an encoded domain event (the reason says why)."""


def to_dict(event: Event) -> dict[str, Any]:
    """An event as a JSON-ready dict."""
    out: dict[str, Any] = {"k": event.kind}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def encode(events: list[Event]) -> bytes:
    """A batch of events as one JSON array (UTF-8)."""
    return json.dumps([to_dict(e) for e in events], separators=(",", ":")).encode()


def from_dict(data: Any) -> Event:
    """The event a dict from `to_dict` describes; CodecError if it describes none."""
    if not isinstance(data, dict):
        raise CodecError("an event is a JSON object")
    kind = data.get("k")
    cls = TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise CodecError(f"unknown event kind {kind!r}")
    fields = _CHECKS[kind]  # type: ignore[index]
    unknown = set(data) - set(fields) - {"k"}
    if unknown:
        raise CodecError(f"unknown fields {sorted(unknown)} for {kind}")
    args: dict[str, Any] = {}
    for name, value in data.items():
        if name == "k":
            continue
        if name == "ts":
            if not isinstance(value, str):
                raise CodecError("ts must be an ISO 8601 string")
            try:
                value = datetime.fromisoformat(value)
            except ValueError as err:
                raise CodecError(f"bad ts {value!r}") from err
        elif name in _ENUMS:
            try:
                value = _ENUMS[name](value)
            except ValueError as err:
                raise CodecError(f"bad {name} {value!r}") from err
        elif name in _TUPLES:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise CodecError(f"{name} must be a list of strings")
            value = tuple(value)
        else:
            allowed = _CHECKS[kind][name]  # type: ignore[index]
            bad_bool = isinstance(value, bool) and bool not in allowed
            if bad_bool or not isinstance(value, allowed):
                raise CodecError(f"bad {name} {value!r} for {kind}")
        args[name] = value
    try:
        return cls(**args)  # type: ignore[no-any-return]
    except (TypeError, ValueError) as err:  # a missing field, a naive time
        raise CodecError(f"bad {kind}: {err}") from err


def decode(payload: bytes) -> list[Event]:
    """The events of one `encode`d batch; CodecError for anything else."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise CodecError(f"not JSON: {err}") from err
    if not isinstance(data, list):
        raise CodecError("a batch is a JSON array")
    return [from_dict(item) for item in data]
