"""Reading the live websocket's frames in tests (TestClient websockets)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

Message = dict[str, Any]


def changes(ws: Any, deadline_s: float = 30.0) -> Iterator[Message]:
    """Every change of every delta frame, until the deadline (then AssertionError)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        frame = ws.receive_json()
        assert frame["type"] == "delta", frame["type"]
        yield from frame["changes"]
    raise AssertionError("nothing expected came on the websocket in time")


def next_change(ws: Any, match: Callable[[Message], bool], deadline_s: float = 30.0) -> Message:
    """The first change `match` accepts (frames keep coming while readings flow)."""
    for msg in changes(ws, deadline_s):
        if match(msg):
            return msg
    raise AssertionError("unreachable")
