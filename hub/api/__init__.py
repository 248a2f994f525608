"""The HTTP and websocket API."""

from hub.api.app import create_app

__all__ = ["create_app"]
