"""Where notifications go (`NotificationTarget`), the conditions they tell of (`Incident`: a
camera offline, snow on a road, ... from its beginning to its end) and each message sent or
to be sent (`Delivery`), with its attempts and last error."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cameras.models import Camera, ValidatedModel
from cameras.secrets import EncryptedCharField


class Channel(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (JSON, signed)"
    EMAIL = "email", "E-mail"


class Topic(models.TextChoices):
    """What a target may choose to hear of: a condition's beginning and, where it has one,
    its end, always together, so nobody is told "offline" and never "back"."""

    CAMERA = "camera", "Camera offline, and back"
    ROAD = "road", "Snow or ice on the road begins, and ends"
    FORECAST = "forecast", "Forecast alert (snow or ice) appears"
    PUBLISHING = "publishing", "Publishing failing, and working again"
    DISK = "disk", "Disk space low, and enough again"


class Event(models.TextChoices):
    CAMERA_OFFLINE = "camera.offline", "Camera offline"
    CAMERA_BACK = "camera.back", "Camera back"
    ROAD_STARTED = "road.started", "Snow or ice began"
    ROAD_ENDED = "road.ended", "Snow or ice ended"
    FORECAST_ALERT = "forecast.alert", "Forecast alert"
    PUBLISH_FAILING = "publishing.failing", "Publishing failing"
    PUBLISH_RECOVERED = "publishing.recovered", "Publishing working again"
    DISK_LOW = "disk.low", "Disk space low"
    DISK_OK = "disk.ok", "Disk space enough again"
    TEST = "test", "Test"


def validate_topics(value: Any) -> None:
    if not isinstance(value, list) or not all(v in Topic.values for v in value):
        raise ValidationError(f"Give a list of topics out of: {', '.join(Topic.values)}.")


def all_topics() -> list[str]:
    return list(Topic.values)


def validate_webhook_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Give an http:// or https:// address.")


class NotificationTarget(ValidatedModel):
    name = models.CharField(max_length=100, unique=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    url = models.CharField(
        "webhook URL",
        max_length=500,
        blank=True,
        validators=[validate_webhook_url],
        help_text="Receives a JSON POST per event; see docs/notifications.md.",
    )
    # Stored encrypted (cameras.secrets), like camera passwords.
    secret = EncryptedCharField(
        "shared secret",
        max_length=200,
        blank=True,
        help_text="Signs each webhook body: X-Imgserv-Signature-256: sha256=HMAC-SHA256(secret, "
        "body), in hex. The receiver computes the same and compares.",
    )
    email = models.EmailField("e-mail address", blank=True)
    topics = models.JSONField(
        default=all_topics, blank=True, validators=[validate_topics], help_text="What to send."
    )
    cameras = models.ManyToManyField(
        Camera,
        blank=True,
        related_name="+",
        help_text="Only these cameras' events; none chosen: every camera.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.channel == Channel.WEBHOOK:
            errors = {}
            if not self.url:
                errors["url"] = "A webhook needs its URL."
            if len(self.secret or "") < 16:
                errors["secret"] = "Give a shared secret of at least 16 characters."
            if errors:
                raise ValidationError(errors)
        elif self.channel == Channel.EMAIL and not self.email:
            raise ValidationError({"email": "Give the address to send to."})

    @property
    def destination(self) -> str:
        """As shown to operators: a webhook's scheme, host and port only (a path or query may
        hold a token)."""
        if self.channel == Channel.EMAIL:
            return self.email
        return mask_url(self.url)


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


class IncidentKind(models.TextChoices):
    CAMERA_OFFLINE = "camera_offline", "Camera offline"
    ROAD_SNOW = "road_snow", "Snow on the road"
    ROAD_ICE = "road_ice", "Ice possible on the road"
    FORECAST_SNOW = "forecast_snow", "Snow forecast"
    FORECAST_ICE = "forecast_ice", "Ice forecast"
    PUBLISH_FAILING = "publish_failing", "Publishing failing"
    DISK_LOW = "disk_low", "Disk space low"


class Incident(models.Model):
    """A condition from its beginning to its end. At most one is open per kind and subject
    (a camera, a publish target, the disk), so however often a check runs while a camera stays
    down, it is told once."""

    kind = models.CharField(max_length=32, choices=IncidentKind.choices)
    subject = models.CharField(max_length=100, help_text="camera:<id>, target:<id> or disk")
    camera = models.ForeignKey(
        Camera, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=Q(closed_at__isnull=True),
                name="one_open_incident_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.subject}) from {self.opened_at:%Y-%m-%d %H:%M}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    HELD = "held", "Held (rate limit)"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"
    DROPPED = "dropped", "Dropped (ended while held)"


# Attempts before a delivery is given up: with the backoff below, about a day of trying.
MAX_ATTEMPTS = 10
RETRY_BASE_SECONDS = 60
RETRY_CAP_SECONDS = 4 * 3600


class Delivery(models.Model):
    target = models.ForeignKey(
        NotificationTarget, on_delete=models.CASCADE, related_name="deliveries"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    event = models.CharField(max_length=32, choices=Event.choices)
    # The rate limit's key, with target and event: "camera:<id>", "target:<id>", "disk".
    subject = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["target", "event", "subject", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} to {self.target} ({self.get_status_display()})"

    def retry_delay(self) -> dt.timedelta:
        """After `attempts` failures: 1, 2, 4 … minutes, at most four hours."""
        step = RETRY_BASE_SECONDS * 2 ** max(0, self.attempts - 1)
        return dt.timedelta(seconds=min(RETRY_CAP_SECONDS, step))
