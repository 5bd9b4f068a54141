"""Analysing stored frames, and what other apps read: `current_conditions(camera)`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from analytics.alerts import ForecastStatus, forecast_state
from analytics.condition import Condition, Level, classify
from analytics.models import ConditionReading, ConditionThresholds, RoadRegion
from analytics.road import detect_road, polygon_mask
from cameras.models import Camera, Frame

# Frames merged for road detection: enough for traffic to show where the road is.
DETECTION_FRAMES = 5
# A reading older than this is not "current" (the camera is probably down).
CURRENT_FOR = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Conditions:
    """What the overlay, viewer and status show; `label` is the text ("Ice Possible")."""

    level: str | None
    label: str | None
    temperature_c: float | None
    alerts: list[str] = field(default_factory=list)
    forecast_status: str = ForecastStatus.PENDING
    forecast_message: str = ""
    measured_at: dt.datetime | None = None
    confidence: float | None = None


def frame_path(frame: Frame) -> Path:
    return Path(settings.MEDIA_ROOT) / frame.file


def decode_frame(frame: Frame) -> np.ndarray | None:
    """The stored JPEG as BGR, or None when the file is gone or unreadable."""
    path = frame_path(frame)
    if not path.is_file():
        return None
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return image


def recent_images(camera: Camera, count: int = DETECTION_FRAMES) -> list[np.ndarray]:
    images: list[np.ndarray] = []
    for frame in Frame.objects.filter(camera=camera).order_by("-captured_at")[: count * 2]:
        image = decode_frame(frame)
        if image is not None and (not images or image.shape == images[0].shape):
            images.append(image)
        if len(images) == count:
            break
    return images


def detect_region(camera: Camera) -> RoadRegion | None:
    """(Re)detect the road from the latest frames; the operator polygon is kept."""
    images = recent_images(camera)
    if not images:
        return None
    found = detect_road(images)
    region = RoadRegion.objects.filter(camera=camera).first() or RoadRegion(camera=camera)
    region.auto_polygon = [list(p) for p in found.polygon]
    region.coverage = found.coverage
    region.contours = found.contours
    region.method = found.method
    region.updated_at = timezone.now()
    try:
        region.save()
    except (ValidationError, IntegrityError):
        # Two tasks detected the same new camera at once (the model validates uniqueness
        # before the database could): the other's region is as good as this one.
        return RoadRegion.objects.filter(camera=camera).first()
    return region


def road_region(camera: Camera) -> RoadRegion | None:
    region = RoadRegion.objects.filter(camera=camera).first()
    if region is None or not region.effective_polygon():
        return detect_region(camera)
    return region


def analyze_frame(frame: Frame) -> ConditionReading | None:
    """Classify one stored frame and store the reading; None when the file is unusable."""
    image = decode_frame(frame)
    region = road_region(frame.camera)
    if image is None or region is None:
        return None
    mask = polygon_mask(region.effective_polygon(), image.shape[1], image.shape[0])
    temperature = forecast_state(frame.camera).temperature_c
    condition = classify(image, mask, temperature, ConditionThresholds.for_camera(frame.camera))
    return store_reading(frame, condition, temperature)


def store_reading(
    frame: Frame, condition: Condition, temperature_c: float | None
) -> ConditionReading:
    return ConditionReading.objects.create(
        camera=frame.camera,
        frame=frame,
        measured_at=frame.captured_at,
        level=condition.level,
        snow_coverage=condition.snow_coverage,
        wetness=condition.wetness,
        ice_likelihood=condition.ice_likelihood,
        brightness=condition.brightness,
        confidence=condition.confidence,
        is_night=condition.is_night,
        temperature_c=temperature_c,
        road_pixels=condition.road_pixels,
    )


def current_conditions(camera: Camera, now: dt.datetime | None = None) -> Conditions:
    """The latest reading (if recent), temperature and alerts: one call for the overlay."""
    now = now or timezone.now()
    reading = (
        ConditionReading.objects.filter(camera=camera, measured_at__gte=now - CURRENT_FOR)
        .order_by("-measured_at")
        .first()
    )
    state = forecast_state(camera, now)
    temperature = state.temperature_c
    if temperature is None and reading is not None:
        temperature = reading.temperature_c
    return Conditions(
        level=reading.level if reading else None,
        label=Level(reading.level).label if reading else None,
        temperature_c=temperature,
        alerts=[a.text for a in state.alerts],
        forecast_status=state.status,
        forecast_message=state.message,
        measured_at=reading.measured_at if reading else None,
        confidence=reading.confidence if reading else None,
    )
