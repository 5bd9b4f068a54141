"""MQTT publishing with Home Assistant discovery (docs/mqtt.md)."""
