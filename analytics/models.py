"""Road regions, thresholds, readings, learned bare roads, operator labels and weather."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from analytics.kinds import Level, Light, Polygon, State, Thresholds, Truth
from cameras import polygons
from cameras.models import Camera, Frame, ValidatedModel

UNIT = [MinValueValidator(0.0), MaxValueValidator(1.0)]


def validate_polygon(value: Any) -> None:
    """A list of at least three [x, y] points, each within 0–1 (fractions of the frame).
    The rule is the cameras app's (cameras.polygons), which the privacy masks share; this
    name stays because the migrations refer to it."""
    polygons.validate_polygon(value)


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
    wet = models.FloatField(
        default=defaults.wet,
        validators=UNIT,
        help_text="Gloss of the road (0–1) at which a single picture says wet.",
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
            wet=self.wet,
        )

    @classmethod
    def for_camera(cls, camera: Camera) -> Thresholds:
        row = cls.objects.filter(camera=camera).first()
        return row.as_thresholds() if row else Thresholds()


class ConditionReading(ValidatedModel):
    """One analysed frame: its own state and reason, and the state published after it
    (`analytics.stability`), which is what the overlay, viewer, bundle and API show."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="readings")
    frame = models.ForeignKey(
        Frame, null=True, blank=True, on_delete=models.SET_NULL, related_name="readings"
    )
    measured_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UNKNOWN)
    reason = models.CharField(max_length=300, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices, blank=True)
    published_state = models.CharField(max_length=16, choices=State.choices, default=State.UNKNOWN)
    published_level = models.CharField(max_length=16, choices=Level.choices, blank=True)
    published_reason = models.CharField(max_length=300, blank=True)
    light = models.CharField(max_length=16, choices=Light.choices, blank=True)
    pale_coverage = models.FloatField(default=0.0, validators=UNIT)
    # The weather evidence and the learned-road comparison the decision read, and its notes.
    evidence = models.JSONField(default=dict, blank=True)
    comparison = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=list, blank=True)
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
        return f"{self.camera} {self.measured_at:%Y-%m-%d %H:%M} {self.get_state_display()}"

    def features(self) -> dict[str, Any]:
        """The picture's measurements, as labels keep them."""
        keys = ("snow_coverage", "pale_coverage", "wetness", "brightness", "confidence")
        return {key: getattr(self, key) for key in keys}


class RoadReference(ValidatedModel):
    """A camera's learned bare road in one light: `analytics.reference` loads and keeps it."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="references")
    light = models.CharField(max_length=16, choices=Light.choices)
    samples = models.PositiveIntegerField(default=0)
    brightness = models.FloatField(default=0.0, validators=UNIT)
    wetness = models.FloatField(default=0.0, validators=UNIT)
    marking_visibility = models.FloatField(default=0.0, validators=UNIT)
    edge_map = models.BinaryField(blank=True, default=b"")
    map_height = models.PositiveIntegerField(default=0)
    map_width = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["camera", "light"], name="one_reference_per_light")
        ]

    def __str__(self) -> str:
        return f"{self.camera} bare road ({self.get_light_display()}, {self.samples} frames)"


class FrameLabel(ValidatedModel):
    """What an operator says the road really showed in a frame. It keeps a copy of what the
    camera said and measured, so it stays when retention deletes the frame or the reading."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="labels")
    reading = models.OneToOneField(
        ConditionReading, null=True, blank=True, on_delete=models.SET_NULL, related_name="label"
    )
    frame = models.ForeignKey(
        Frame, null=True, blank=True, on_delete=models.SET_NULL, related_name="labels"
    )
    captured_at = models.DateTimeField(db_index=True)
    truth = models.CharField("the road showed", max_length=16, choices=Truth.choices)
    said_state = models.CharField(max_length=16, choices=State.choices)
    said_level = models.CharField(max_length=16, choices=Level.choices, blank=True)
    features = models.JSONField(default=dict, blank=True)
    labelled_by = models.CharField(max_length=150, blank=True)
    labelled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-captured_at"]
        indexes = [models.Index(fields=["camera", "-captured_at"])]

    def __str__(self) -> str:
        return f"{self.camera} {self.captured_at:%Y-%m-%d %H:%M}: {self.get_truth_display()}"


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


class WeatherHour(ValidatedModel):
    """One past hour of weather at a camera, as its provider reported it; None = not reported.

    Written by each forecast refresh (a newer fetch of the same hour replaces the older one)
    and kept for ten days; `analytics.weather.history` reads it as evidence.
    """

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="weather_hours")
    time = models.DateTimeField(help_text="Start of the hour, UTC.")
    provider = models.CharField(max_length=32)
    temperature_c = models.FloatField(null=True, blank=True)
    dew_point_c = models.FloatField(null=True, blank=True)
    precipitation_mm = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    snowfall_cm = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    snow_depth_cm = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    weather_code = models.IntegerField(null=True, blank=True, help_text="WMO code, if given.")
    freezing_precipitation = models.BooleanField(default=False)
    description = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-time"]
        constraints = [
            models.UniqueConstraint(fields=["camera", "time"], name="weather_hour_once_per_camera")
        ]
        indexes = [models.Index(fields=["camera", "-time"])]

    def __str__(self) -> str:
        return f"{self.camera} {self.time:%Y-%m-%d %H:00} {self.provider}"
