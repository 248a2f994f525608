"""MQTT ingest of location messages (acknowledged only once stored, nothing lost on restart),
and the relay that shares accepted events between hub workers."""

from adapters.mqtt.adapter import MqttIngest
from adapters.mqtt.client import MqttOptions, MqttSender
from adapters.mqtt.relay import ClusterRelay

__all__ = ["ClusterRelay", "MqttIngest", "MqttOptions", "MqttSender"]
