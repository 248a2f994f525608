"""Location wire formats: OwnTracks, ESPresense, Traccar's OsmAnd, and a generic JSON."""

from adapters.location.formats import (
    MAX_PAYLOAD,
    DecodeError,
    decode_espresense,
    decode_generic,
    decode_osmand,
    decode_owntracks,
    decode_topic,
)

__all__ = [
    "MAX_PAYLOAD",
    "DecodeError",
    "decode_espresense",
    "decode_generic",
    "decode_osmand",
    "decode_owntracks",
    "decode_topic",
]
