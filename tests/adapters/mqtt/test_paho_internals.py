"""The MQTT client reaches into three private parts of paho-mqtt 2.x (`_sock_recv`,
`_packet_write`, `_out_packet` and its packet dicts) to read in chunks and join
acknowledgements. paho is pinned to the minor versions this was written against; this test
fails loudly, naming what moved, if an upgrade changes them (the ingest tests against
Mosquitto would otherwise fail in less obvious ways)."""

from __future__ import annotations

import inspect
from collections import deque
from importlib.metadata import version

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from adapters.mqtt.client import _BufferedClient, _join_pubacks

PACKET_KEYS = {"command", "mid", "qos", "pos", "to_process", "packet", "info"}


def test_paho_is_a_version_the_client_was_written_against() -> None:
    major, minor = (int(x) for x in version("paho-mqtt").split(".")[:2])
    assert (major, minor) in {(2, 1), (2, 2)}, (
        f"paho-mqtt {version('paho-mqtt')}: check adapters/mqtt/client.py's overrides, then "
        "widen the pin in pyproject.toml and here"
    )


def test_the_private_methods_the_client_overrides_are_still_there() -> None:
    recv = inspect.signature(paho.Client._sock_recv)
    assert list(recv.parameters) == ["self", "bufsize"], "paho changed _sock_recv"
    write = inspect.signature(paho.Client._packet_write)
    assert list(write.parameters) == ["self"], "paho changed _packet_write"
    queued = inspect.getsource(paho.Client._packet_queue)
    assert "self._out_packet.append" in queued, "paho no longer queues into _out_packet"
    for key in PACKET_KEYS:
        assert f'"{key}"' in queued, f"paho's queued packets lost their {key!r}"


def test_queued_acknowledgements_are_joined_into_one_write() -> None:
    client = _BufferedClient(callback_api_version=CallbackAPIVersion.VERSION2)
    assert isinstance(client._out_packet, deque)
    puback = bytes([paho.PUBACK, 2, 0, 1])
    publish = bytes([paho.PUBLISH, 3, 0, 1, 120])
    for command, packet in ((paho.PUBACK, puback), (paho.PUBACK, puback), (paho.PUBLISH, publish)):
        client._out_packet.append(
            {
                "command": command,
                "mid": 1,
                "qos": 1,
                "pos": 0,
                "to_process": len(packet),
                "packet": packet,
                "info": None,
            }
        )
    _join_pubacks(client._out_packet)
    assert [p["packet"] for p in client._out_packet] == [puback * 2, publish]
    assert client._out_packet[0]["to_process"] == 8
