"""dayuan hub: IoT smart-building and security supervision hub for an administrative compound."""

__version__ = "0.1.0"
