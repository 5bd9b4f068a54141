from __future__ import annotations

from django.apps import AppConfig


class MqttConfig(AppConfig):
    """MQTT publishing and Home Assistant discovery. Like notifications, it hears the other
    apps (signals) and none of them imports it; the worker command starts its service."""

    name = "mqtt"
    verbose_name = "MQTT"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mqtt import receivers

        receivers.connect()
