"""Choices shared by the sequence models, the overlay and the encoders."""

from __future__ import annotations

from django.db import models


class OverlayStyle(models.TextChoices):
    FULL = "full", "Full (all fields)"
    MINIMAL = "minimal", "Minimal (place, time, condition)"
    MOBILE = "mobile", "Mobile (larger text, fewer fields)"
    NONE = "none", "None"


class ConditionWording(models.TextChoices):
    SURFACE = "surface", "Road surface (Dry, Wet, Light snow, Ice possible)"
    LEVELS = "levels", "Closed product's levels (Clear, Light, Moderate, Heavy, Ice Possible)"


class OptimisationLevel(models.TextChoices):
    LOW = "low", "Low (256 colours)"
    BALANCED = "balanced", "Balanced (192 colours)"
    AGGRESSIVE = "aggressive", "Aggressive (128 colours)"

    @property
    def colours(self) -> int:
        return {"low": 256, "balanced": 192, "aggressive": 128}[self.value]


class OutputFormat(models.TextChoices):
    GIF = "gif", "GIF"
    MP4 = "mp4", "MP4 (H.264)"
    WEBP = "webp", "Animated WebP"

    @property
    def content_type(self) -> str:
        return {"gif": "image/gif", "mp4": "video/mp4", "webp": "image/webp"}[self.value]


class DigestStatus(models.TextChoices):
    PENDING = "pending", "Being built"
    BUILT = "built", "Built"
    NO_FRAMES = "no_frames", "No frames that day"
    FAILED = "failed", "Failed"


class SunPath(models.TextChoices):
    """How the sun went that day at the camera's position: it decides which frames are
    daylight. astral raises for the polar cases; they are recorded, not errors."""

    RISES_AND_SETS = "rises_and_sets", "Sunrise and sunset"
    POLAR_DAY = "polar_day", "Sun up all day (polar day)"
    POLAR_NIGHT = "polar_night", "Sun down all day (polar night)"
    NO_LOCATION = "no_location", "No location: the whole day is used"
