"""MQTT ingest of location messages: acknowledged only once stored, nothing lost on restart."""

from adapters.mqtt.adapter import MqttIngest
from adapters.mqtt.client import MqttOptions

__all__ = ["MqttIngest", "MqttOptions"]
