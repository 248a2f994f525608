"""Helpers the protocol adapters share (none of them touches a protocol library)."""
