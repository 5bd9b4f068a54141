"""Cameras, the frames they deliver, and the capture clock that drives them."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from cameras.polygons import MASK_REQUIRED, validate_mask_polygon
from cameras.secrets import EncryptedCharField
from cameras.units import Units, units_for

UPDATE_INTERVAL_CHOICES = [(m, f"{m} min") for m in (1, 2, 5, 10, 15, 30)]
MIN_FRAMES, MAX_FRAMES = 5, 30


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone, e.g. Europe/Oslo.")


class ValidatedModel(models.Model):
    """Validates on every save (admin, commands, code), not only in forms, so no path can
    store a value the form would have refused. Saves of chosen fields skip it: those are the
    system's own bookkeeping."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") is None:
            self.full_clean()
        super().save(*args, **kwargs)


class SourceKind(models.TextChoices):
    RTSP = "rtsp", "RTSP stream"
    HTTP = "http", "HTTP snapshot"
    ONVIF = "onvif", "ONVIF device"
    DEMO = "demo", "Demo (generated road scene)"


class Health(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    OK = "ok", "OK"
    DEGRADED = "degraded", "Degraded"
    OFFLINE = "offline", "Offline"


# A camera that fails this many grabs in a row is offline rather than degraded.
OFFLINE_AFTER_FAILURES = 3
RETRY_BASE_SECONDS = 2.0
RETRY_CAP_SECONDS = 300.0
# A camera with neither a frame nor an attempt for this many of its spacings is not being
# captured at all (Camera.is_late).
LATE_AFTER_SPACINGS = 3


class Camera(ValidatedModel):
    """A camera and when to capture from it.

    The update interval and frame count live here, not with the other sequence settings,
    because they set the capture spacing, which is capture's business.
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    location_name = models.CharField(max_length=200, help_text="Shown on the overlay.")
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    units = models.CharField(
        max_length=8,
        choices=Units.choices,
        default=Units.AUTO,
        help_text="°C and cm, or °F and inches: on the overlay, the viewer, the published pages "
        "and the forecast alerts. Auto: the site's UNITS setting, else the location's (US units "
        "in the United States).",
    )
    source_kind = models.CharField(
        max_length=16, choices=SourceKind.choices, default=SourceKind.DEMO
    )
    source_url = models.CharField(
        "URL",
        max_length=500,
        blank=True,
        help_text="rtsp://host:554/path, http(s)://host/snapshot.jpg, or onvif://host:port. "
        "Put the user name and password in their own fields, not in the URL.",
    )
    username = models.CharField(max_length=100, blank=True)
    # Stored encrypted with a key outside the database; a plain str here.
    password = EncryptedCharField(max_length=200, blank=True)
    source_settings = models.JSONField(
        default=dict,
        blank=True,
        help_text='Demo: {"snow": true} adds falling snow. ONVIF: the discovered stream and '
        "snapshot URIs are kept here.",
    )
    capture_width = models.PositiveIntegerField(
        default=1280, validators=[MinValueValidator(160), MaxValueValidator(3840)]
    )
    capture_height = models.PositiveIntegerField(
        default=720, validators=[MinValueValidator(120), MaxValueValidator(2160)]
    )
    update_interval_minutes = models.PositiveSmallIntegerField(
        "update interval", choices=UPDATE_INTERVAL_CHOICES, default=5
    )
    frames_per_sequence = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(MIN_FRAMES), MaxValueValidator(MAX_FRAMES)],
        help_text=f"{MIN_FRAMES}–{MAX_FRAMES}.",
    )
    enabled = models.BooleanField(default=True)
    # A camera nothing has tried yet is late only after several spacings from here (health).
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    health = models.CharField(max_length=16, choices=Health.choices, default=Health.UNKNOWN)
    last_frame_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    rejected_frames = models.PositiveIntegerField(
        default=0, help_text="Frames refused as corrupt, blank or frozen (not stored)."
    )
    last_error = models.CharField(max_length=300, blank=True)
    # Which capture node runs this camera, until when (cameras.leases).
    lease_owner = models.CharField(max_length=200, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.latitude is None) != (self.longitude is None):
            missing = "longitude" if self.longitude is None else "latitude"
            raise ValidationError({missing: "Give both latitude and longitude, or neither."})
        if self.source_kind != SourceKind.DEMO and not self.source_url:
            raise ValidationError({"source_url": "A URL is needed for this kind of camera."})
        if "@" in self.source_url.split("//", 1)[-1].split("/", 1)[0]:
            raise ValidationError(
                {"source_url": "Put the user name and password in their own fields."}
            )

    @classmethod
    def find(cls, name_or_slug: str) -> Camera | None:
        """As operators type it on the command line: the name, or the slug."""
        by_name = cls.objects.filter(name=name_or_slug).first()
        return by_name or cls.objects.filter(slug=name_or_slug).first()

    @property
    def masked_url(self) -> str:
        """The URL as shown to people: the password never, the user name masked with it."""
        if not self.source_url:
            return f"{self.source_kind}:"
        if not self.username:
            return self.source_url
        scheme, rest = self.source_url.split("://", 1)
        return f"{scheme}://{self.username}:***@{rest}"

    @property
    def display_units(self) -> Units:
        """Metric or US, as shown to people: `units` resolved (cameras.units.units_for)."""
        return units_for(self)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def capture_spacing(self) -> dt.timedelta:
        """Time between frames: the update interval shared out over the frames of a sequence."""
        return dt.timedelta(minutes=self.update_interval_minutes) / self.frames_per_sequence

    def slots_between(self, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """Capture slots in [start, end), aligned to the epoch so they never drift."""
        step = self.capture_spacing.total_seconds()
        first = -(-start.timestamp() // step) * step
        slots = []
        t = first
        while t < end.timestamp():
            slots.append(dt.datetime.fromtimestamp(t, tz=dt.UTC))
            t += step
        return slots

    def is_late(self, now: dt.datetime) -> bool:
        """Enabled, with neither a frame nor an attempt for LATE_AFTER_SPACINGS spacings
        (counted from when it was added, for one nothing has tried yet): no live node runs it."""
        seen = max(
            (t for t in (self.last_frame_at, self.last_attempt_at) if t is not None),
            default=self.created_at,
        )
        return self.enabled and now - seen > LATE_AFTER_SPACINGS * self.capture_spacing

    def record_success(self, captured_at: dt.datetime) -> None:
        Camera.objects.filter(pk=self.pk).update(
            health=Health.OK,
            last_frame_at=captured_at,
            last_attempt_at=timezone.now(),
            consecutive_failures=0,
            last_error="",
        )

    def record_failure(self, error: str, *, rejected: bool = False) -> None:
        failures = self.consecutive_failures + 1
        self.consecutive_failures = failures
        Camera.objects.filter(pk=self.pk).update(
            health=Health.OFFLINE if failures >= OFFLINE_AFTER_FAILURES else Health.DEGRADED,
            last_attempt_at=timezone.now(),
            consecutive_failures=models.F("consecutive_failures") + 1,
            rejected_frames=models.F("rejected_frames") + int(rejected),
            last_error=error[:300],
        )

    def retry_delay(self, rng: random.Random | None = None) -> dt.timedelta:
        """Exponential backoff with jitter after consecutive failures, capped, so a dead camera
        is retried less and less often and many cameras don't retry in step."""
        if not self.consecutive_failures:
            return dt.timedelta(0)
        base = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (self.consecutive_failures - 1))
        jitter = (rng or random).uniform(0.5, 1.0)
        return dt.timedelta(seconds=base * jitter)


def frame_upload_path(camera_slug: str, captured_at: dt.datetime, checksum: str) -> str:
    """`frames/<camera>/<date>/<time>-<checksum>.jpg`: time to the microsecond plus content hash
    so two frames can never share a name."""
    utc = captured_at.astimezone(dt.UTC)
    return f"frames/{camera_slug}/{utc:%Y-%m-%d}/{utc:%H%M%S_%f}-{checksum[:12]}.jpg"


class Frame(models.Model):
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="frames")
    captured_at = models.DateTimeField(db_index=True)
    file = models.CharField(max_length=300, help_text="Path under MEDIA_ROOT.")
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-captured_at"]
        constraints = [
            models.UniqueConstraint(fields=["camera", "captured_at"], name="one_frame_per_instant")
        ]
        indexes = [models.Index(fields=["camera", "-captured_at"])]

    def __str__(self) -> str:
        return f"{self.camera.slug} {self.captured_at:%Y-%m-%d %H:%M:%S}"


class CaptureNode(models.Model):
    """A running capture service (`manage.py worker`): its last heartbeat and how many
    cameras it holds. /health reads it to know that capture is alive."""

    name = models.CharField(max_length=200, unique=True, help_text="host:pid")
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField(db_index=True)
    cameras = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"capture node {self.name}"


class MaskStyle(models.TextChoices):
    # The values are cameras.masks' style names.
    BLUR = "blur", "Blur"
    PIXELATE = "pixelate", "Pixelate"
    SOLID = "solid", "Solid fill"


class PrivacyMask(ValidatedModel):
    """A region of the camera's picture hidden in every frame it stores (cameras.masks).

    Applied once, when a frame is stored: every output is made from stored frames, so none
    shows the region, and nothing unmasked is written. Frames stored before the mask was
    drawn keep what they show until retention removes them. The road-condition analysis
    reads the stored frame too: a mask over the road hides that part of it from the analysis.
    """

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="privacy_masks")
    name = models.CharField(
        max_length=100, blank=True, help_text="What it hides, e.g. “front garden of no. 12”."
    )
    polygon = models.JSONField(
        default=list,
        validators=[validate_mask_polygon],
        error_messages={"blank": MASK_REQUIRED, "null": MASK_REQUIRED},
        help_text="[[x, y], …] as fractions of the frame, at least three points.",
    )
    style = models.CharField(max_length=16, choices=MaskStyle.choices, default=MaskStyle.SOLID)
    fill_colour = models.CharField(
        max_length=7,
        default="#000000",
        validators=[
            RegexValidator(r"^#[0-9a-fA-F]{6}\Z", "A colour as #rrggbb, e.g. #000000 (black).")
        ],
        help_text="For a solid fill: #rrggbb.",
    )

    class Meta:
        ordering = ["camera", "pk"]

    def __str__(self) -> str:
        return self.name or f"{MaskStyle(self.style).label} mask of {self.camera}"


class PrivacySettings(ValidatedModel):
    """Automatic blurring of licence plates and faces, per camera, before a frame is stored.
    Best effort: OpenCV's Haar cascades find only plates and faces that are large in the frame
    (bench/masks.py), so draw masks where people are expected."""

    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, related_name="privacy")
    blur_plates = models.BooleanField(
        "blur licence plates",
        default=False,
        help_text="Finds only plates at least 64×16 pixels in the frame; adds about 0.1 s "
        "to storing a 1280×720 frame.",
    )
    blur_faces = models.BooleanField(
        default=False,
        help_text="Finds only faces at least 24×24 pixels in the frame; adds about 0.7 s "
        "to storing a 1280×720 frame.",
    )

    class Meta:
        verbose_name = "automatic blurring"
        verbose_name_plural = "automatic blurring"

    def __str__(self) -> str:
        return f"automatic blurring of {self.camera}"

    def clean(self) -> None:
        if not (self.blur_plates or self.blur_faces):
            return
        # Here, not at the top: the web process loads OpenCV only when this is asked for.
        from cameras.masks import detection_problem

        problem = detection_problem()
        if problem:
            chosen = [f for f in ("blur_plates", "blur_faces") if getattr(self, f)]
            raise ValidationError(dict.fromkeys(chosen, problem))
