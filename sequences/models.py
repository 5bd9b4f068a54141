"""How each camera's sequence looks, and the sequences built."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from cameras.models import MIN_FRAMES, Camera, Frame, ValidatedModel
from sequences.choices import (
    ConditionWording,
    DigestStatus,
    OptimisationLevel,
    OutputFormat,
    OverlayStyle,
    SunPath,
)


class SequenceSettings(ValidatedModel):
    camera = models.OneToOneField(
        Camera, on_delete=models.CASCADE, primary_key=True, related_name="sequence_settings"
    )
    frame_duration = models.DecimalField(
        "frame duration (s)",
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.0"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("5.0"))],
        help_text="0.5–5.0 seconds per frame; fractions are honoured.",
    )
    optimisation = models.CharField(
        max_length=16, choices=OptimisationLevel.choices, default=OptimisationLevel.BALANCED
    )
    output_width = models.PositiveIntegerField(
        default=1280, validators=[MinValueValidator(160), MaxValueValidator(1920)]
    )
    output_height = models.PositiveIntegerField(
        default=720,
        validators=[MinValueValidator(120), MaxValueValidator(1080)],
        help_text="Frames are fitted inside width × height, keeping their aspect.",
    )
    overlay_style = models.CharField(
        max_length=16, choices=OverlayStyle.choices, default=OverlayStyle.FULL
    )
    condition_wording = models.CharField(
        max_length=16,
        choices=ConditionWording.choices,
        default=ConditionWording.SURFACE,
        help_text="How the overlay names the road condition. Unknown shows “—” in both.",
    )
    keep_sequences = models.PositiveIntegerField(
        "sequences kept",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="How many recent sequences to keep (1–1000); older ones and their frames go.",
    )
    next_build_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_build_error = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "sequence settings"

    def __str__(self) -> str:
        return f"Sequence settings for {self.camera}"

    @property
    def duration_ms(self) -> int:
        return int(self.frame_duration * 1000)

    def claim_build(self, now: dt.datetime) -> bool:
        """Claim the build that is due now, so one frame triggers one build however many
        workers see it. Builds fall on update-interval boundaries, like the capture slots."""
        if Frame.objects.filter(camera_id=self.camera_id).count() < MIN_FRAMES:
            return False
        step = self.camera.update_interval_minutes * 60
        following = dt.datetime.fromtimestamp((now.timestamp() // step + 1) * step, tz=dt.UTC)
        due = models.Q(next_build_at__isnull=True) | models.Q(next_build_at__lte=now)
        claimed = (
            SequenceSettings.objects.filter(due, pk=self.pk).update(next_build_at=following) == 1
        )
        return claimed


class Sequence(models.Model):
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="sequences")
    built_at = models.DateTimeField(default=timezone.now, db_index=True)
    gif = models.CharField(max_length=300, help_text="Path under MEDIA_ROOT.")
    gif_bytes = models.PositiveIntegerField()
    mp4 = models.CharField(max_length=300, blank=True, help_text="Path under MEDIA_ROOT.")
    mp4_bytes = models.PositiveIntegerField(default=0)
    webp = models.CharField(max_length=300, blank=True, help_text="Path under MEDIA_ROOT.")
    webp_bytes = models.PositiveIntegerField(default=0)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    frame_count = models.PositiveSmallIntegerField()
    frame_duration_ms = models.PositiveIntegerField()
    first_captured_at = models.DateTimeField()
    last_captured_at = models.DateTimeField()
    build_seconds = models.FloatField()
    frames = models.ManyToManyField(Frame, related_name="sequences")

    class Meta:
        ordering = ["-built_at"]
        get_latest_by = "built_at"

    def __str__(self) -> str:
        return f"{self.camera.slug} {self.built_at:%Y-%m-%d %H:%M:%S}"

    def get_absolute_url(self) -> str:
        return reverse("camera-sequence-latest", args=[self.camera.slug])

    def url_for(self, kind: OutputFormat) -> str:
        return reverse("camera-sequence-latest-format", args=[self.camera.slug, kind.value])

    def file_for(self, kind: OutputFormat) -> tuple[str, int]:
        """Path under MEDIA_ROOT and size of one output; ("", 0) when it was not built."""
        return {
            OutputFormat.GIF: (self.gif, self.gif_bytes),
            OutputFormat.MP4: (self.mp4, self.mp4_bytes),
            OutputFormat.WEBP: (self.webp, self.webp_bytes),
        }[kind]

    def files(self) -> list[str]:
        return [f for f in (self.gif, self.mp4, self.webp) if f]

    def etag_for(self, kind: OutputFormat) -> str:
        return f'"seq-{self.pk}-{kind.value}-{self.file_for(kind)[1]}"'

    @property
    def etag(self) -> str:
        return self.etag_for(OutputFormat.GIF)


class DayDigest(models.Model):
    """A camera's day at a glance (sequences.digest): a timelapse MP4 of the daylight frames
    and a strip of the road, one column per frame across the 24 hours of the local date.

    The row exists from the moment a build is claimed (status pending), so one day is built
    once however many workers see it due; the files are named in it only once complete.
    """

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="day_digests")
    date = models.DateField(help_text="The camera's local date.")
    status = models.CharField(
        max_length=16, choices=DigestStatus.choices, default=DigestStatus.PENDING
    )
    sun_path = models.CharField(max_length=16, choices=SunPath.choices, default=SunPath.NO_LOCATION)
    sunrise = models.DateTimeField(null=True, blank=True)
    sunset = models.DateTimeField(null=True, blank=True)
    mp4 = models.CharField(max_length=300, blank=True, help_text="Path under MEDIA_ROOT.")
    mp4_bytes = models.PositiveIntegerField(default=0)
    strip = models.CharField(max_length=300, blank=True, help_text="Path under MEDIA_ROOT.")
    strip_bytes = models.PositiveIntegerField(default=0)
    frame_count = models.PositiveIntegerField(default=0, help_text="Frames in the strip.")
    daylight_frames = models.PositiveIntegerField(default=0, help_text="Frames in the MP4.")
    skipped_frames = models.PositiveIntegerField(
        default=0, help_text="Stored frames that could not be decoded (left out)."
    )
    # When the pending build was claimed: a claim whose worker died is taken again later.
    claimed_at = models.DateTimeField(default=timezone.now)
    built_at = models.DateTimeField(null=True, blank=True)
    build_seconds = models.FloatField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["camera", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["camera", "date"], name="one_digest_per_camera_day")
        ]

    def __str__(self) -> str:
        return f"{self.camera.slug} {self.date:%Y-%m-%d}"

    def files(self) -> list[str]:
        return [f for f in (self.mp4, self.strip) if f]

    @property
    def total_bytes(self) -> int:
        return self.mp4_bytes + self.strip_bytes

    def mp4_url(self) -> str:
        return self._url("mp4") if self.mp4 else ""

    def strip_url(self) -> str:
        return self._url("png") if self.strip else ""

    def _url(self, kind: str) -> str:
        return reverse("camera-day-file", args=[self.camera.slug, self.date.isoformat(), kind])
