"""Where the public bundle goes (`PublishTarget`) and what happened each time (`PublishRun`)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from cameras.models import ValidatedModel

# First retry after a failure, doubling up to the cap: a VPS that is down for an hour is tried
# a dozen times, not hundreds, and is caught up within the cap of coming back.
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 600
# A publish that has not finished in this long is taken to have died with its worker.
CLAIM_SECONDS = 900

HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:]+\]?$")
USER_RE = re.compile(r"^[a-z_][a-z0-9_.\-]{0,31}$")


class TargetKind(models.TextChoices):
    RSYNC = "rsync", "rsync over SSH"
    DIRECTORY = "directory", "Local directory"


class Outcome(models.TextChoices):
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    FAILED = "failed", "Failed"


def validate_absolute(value: str) -> None:
    if value and not value.startswith("/"):
        raise ValidationError("Give an absolute path, e.g. /srv/imgserv/bundle.")
    if any(part == ".." for part in value.split("/")):
        raise ValidationError("The path may not contain “..”.")


class PublishTarget(ValidatedModel):
    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=TargetKind.choices)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(
        default=22, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    user = models.CharField(max_length=32, blank=True)
    remote_path = models.CharField(
        "path",
        max_length=500,
        validators=[validate_absolute],
        help_text="The bundle folder: releases/ and the current symlink live inside it.",
    )
    identity_file = models.CharField(
        "private key file", max_length=500, blank=True, validators=[validate_absolute]
    )
    host_key = models.TextField(
        blank=True,
        help_text="Pinned with `manage.py publish trust NAME`; a changed key is refused.",
    )
    enabled = models.BooleanField(default=True)

    # Bookkeeping, written with conditional updates by the publish task.
    requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_request_at = models.DateTimeField(null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    current_release = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind != TargetKind.RSYNC:
            return
        errors = {}
        if not HOST_RE.match(self.host or ""):
            errors["host"] = "Give the server's host name or IP address."
        if not USER_RE.match(self.user or ""):
            errors["user"] = "Give the SSH user name on the server (lower case, no spaces)."
        if not self.identity_file:
            errors["identity_file"] = "Give the private key file (see `publish keygen`)."
        if errors:
            raise ValidationError(errors)

    @property
    def destination(self) -> str:
        """As shown to operators: no key, and the path only where they set it."""
        if self.kind == TargetKind.DIRECTORY:
            return self.remote_path
        return f"{self.user}@{self.host}:{self.remote_path} (port {self.port})"

    def known_hosts_file(self) -> Path:
        """The pinned key as ssh reads it: one file per target, nothing shared."""
        return Path(settings.DATA_DIR) / "publishing" / f"known_hosts-{self.name}"

    def retry_delay(self) -> dt.timedelta:
        step = RETRY_BASE_SECONDS * 2 ** max(0, self.consecutive_failures - 1)
        return dt.timedelta(seconds=min(RETRY_CAP_SECONDS, step))

    def lag_seconds(self, now: dt.datetime) -> float | None:
        """How long the public bundle has been behind the newest build; 0 when current."""
        if self.requested_at is None:
            return None
        if self.published_request_at and self.published_request_at >= self.requested_at:
            return 0.0
        return max(0.0, (now - self.requested_at).total_seconds())


def pending_q() -> Q:
    """Targets with a build newer than the last one they received."""
    newer = Q(published_request_at__isnull=True) | Q(requested_at__gt=F("published_request_at"))
    return Q(enabled=True, requested_at__isnull=False) & newer


def unclaimed_q(now: dt.datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def due_q(now: dt.datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


class PublishRun(models.Model):
    target = models.ForeignKey(PublishTarget, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    release = models.CharField(max_length=64, blank=True)
    files = models.PositiveIntegerField(default=0)
    bytes = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["target", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.target} {self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class TargetState(TypedDict):
    name: str
    kind: str
    enabled: bool
    last_success_at: dt.datetime | None
    lag_seconds: float | None
    last_error: str
    consecutive_failures: int
    next_attempt_at: dt.datetime | None


def publish_state() -> list[TargetState]:
    """Per target, for /status: last success, how far behind, the last error in plain words.
    No host, user or path: /status may be public."""
    now = timezone.now()
    return [
        TargetState(
            name=t.name,
            kind=t.kind,
            enabled=t.enabled,
            last_success_at=t.last_success_at,
            lag_seconds=t.lag_seconds(now),
            last_error=t.last_error,
            consecutive_failures=t.consecutive_failures,
            next_attempt_at=t.next_attempt_at,
        )
        for t in PublishTarget.objects.all()
    ]
