"""An in-process MQTT broker (amqtt) so the demo needs no server. Production uses Mosquitto."""

from adapters.embedded_broker.broker import EmbeddedBroker

__all__ = ["EmbeddedBroker"]
