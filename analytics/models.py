"""Road regions, the thresholds the classifier uses, readings and stored forecasts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from analytics.condition import Level, Thresholds
from analytics.road import Polygon
from cameras.models import Camera, Frame, ValidatedModel

UNIT = [MinValueValidator(0.0), MaxValueValidator(1.0)]


def validate_polygon(value: Any) -> None:
    """A list of at least three [x, y] points, each within 0–1 (fractions of the frame)."""
    if value in (None, []):
        return
    message = (
        "Give a list of at least three [x, y] points with 0 ≤ x, y ≤ 1, "
        "e.g. [[0, 1], [0.5, 0.4], [1, 1]]."
    )
    if not isinstance(value, list) or len(value) < 3:
        raise ValidationError(message)
    for point in value:
        ok = isinstance(point, list | tuple) and len(point) == 2
        if not ok or not all(
            isinstance(c, int | float) and not isinstance(c, bool) and 0 <= c <= 1 for c in point
        ):
            raise ValidationError(message)


class RoadRegion(ValidatedModel):
    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, related_name="road_region")
    auto_polygon = models.JSONField(default=list, blank=True, validators=[validate_polygon])
    operator_polygon = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_polygon],
        help_text="Optional. [[x, y], …] as fractions of the frame; overrides the detected road.",
    )
    coverage = models.FloatField(default=0.0, validators=UNIT)
    contours = models.PositiveIntegerField(default=0)
    method = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"road of {self.camera}"

    def effective_polygon(self) -> Polygon:
        chosen = self.operator_polygon or self.auto_polygon
        return [(float(x), float(y)) for x, y in chosen]

    @property
    def source(self) -> str:
        if self.operator_polygon:
            return "operator"
        return self.method or "none"


class ConditionThresholds(ValidatedModel):
    """Per-camera levels; the classifier reads them for every frame, so edits apply at once."""

    defaults = Thresholds()
    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, related_name="thresholds")
    light = models.FloatField(default=defaults.light, validators=UNIT, help_text="Snow coverage.")
    moderate = models.FloatField(default=defaults.moderate, validators=UNIT)
    heavy = models.FloatField(default=defaults.heavy, validators=UNIT)
    ice = models.FloatField(
        default=defaults.ice, validators=UNIT, help_text="Ice likelihood for Ice Possible."
    )
    freezing_c = models.FloatField(
        default=defaults.freezing_c,
        validators=[MinValueValidator(-10), MaxValueValidator(5)],
        help_text="Air temperature at or below which ice is possible.",
    )

    class Meta:
        verbose_name_plural = "condition thresholds"

    def __str__(self) -> str:
        return f"thresholds of {self.camera}"

    def clean(self) -> None:
        if not self.light < self.moderate < self.heavy:
            raise ValidationError("Snow levels must rise: light < moderate < heavy.")

    def as_thresholds(self) -> Thresholds:
        return Thresholds(
            light=self.light,
            moderate=self.moderate,
            heavy=self.heavy,
            ice=self.ice,
            freezing_c=self.freezing_c,
        )

    @classmethod
    def for_camera(cls, camera: Camera) -> Thresholds:
        row = cls.objects.filter(camera=camera).first()
        return row.as_thresholds() if row else Thresholds()


class ConditionReading(ValidatedModel):
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="readings")
    frame = models.ForeignKey(
        Frame, null=True, blank=True, on_delete=models.SET_NULL, related_name="readings"
    )
    measured_at = models.DateTimeField(db_index=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    snow_coverage = models.FloatField(validators=UNIT)
    wetness = models.FloatField(validators=UNIT)
    ice_likelihood = models.FloatField(validators=UNIT)
    brightness = models.FloatField(validators=UNIT)
    confidence = models.FloatField(validators=UNIT)
    is_night = models.BooleanField(default=False)
    temperature_c = models.FloatField(null=True, blank=True)
    road_pixels = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-measured_at"]
        indexes = [models.Index(fields=["camera", "-measured_at"])]

    def __str__(self) -> str:
        return f"{self.camera} {self.measured_at:%Y-%m-%d %H:%M} {self.get_level_display()}"


class ForecastSnapshot(ValidatedModel):
    """One fetch of a forecast; a failed fetch is stored too, with its error and no data."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="forecasts")
    provider = models.CharField(max_length=32)
    fetched_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    current_temperature_c = models.FloatField(null=True, blank=True)
    hourly = models.JSONField(default=list, blank=True)
    alerts = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-fetched_at"]
        indexes = [models.Index(fields=["camera", "-fetched_at"])]

    def __str__(self) -> str:
        return f"{self.camera} {self.provider} {self.fetched_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self) -> bool:
        return not self.error
