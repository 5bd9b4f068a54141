"""What the operator sees of each worker node's MQTT connection (admin → MQTT connections)."""

from __future__ import annotations

from django.db import models


class LinkState(models.TextChoices):
    CONNECTING = "connecting", "Connecting"
    CONNECTED = "connected", "Connected"
    DISCONNECTED = "disconnected", "Disconnected, reconnecting"
    STOPPED = "stopped", "Stopped"


class BrokerConnection(models.Model):
    """One worker node's link to the broker, written by its MQTT service (mqtt.service)."""

    node = models.CharField(max_length=200, unique=True, help_text="host:pid")
    broker = models.CharField(max_length=300, help_text="The address, without the password.")
    state = models.CharField(max_length=16, choices=LinkState.choices)
    since = models.DateTimeField(help_text="When it entered this state.")
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    published = models.PositiveBigIntegerField(
        default=0, help_text="Messages handed to the broker."
    )
    dropped = models.PositiveBigIntegerField(
        default=0, help_text="Updates dropped: the queue was full, or the client refused them."
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = "MQTT connection"

    def __str__(self) -> str:
        return f"MQTT {self.node}: {self.get_state_display()}"
