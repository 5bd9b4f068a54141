"""Analysing stored frames: the road region, the reading of each frame (quality, picture,
weather, learned road, decision) and its published state. Runs in the worker."""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from analytics import reference, stability
from analytics.condition import Condition
from analytics.decision import Decision, ReferenceComparison
from analytics.evidence import WeatherEvidence
from analytics.kinds import State
from analytics.models import ConditionReading, RoadReference, RoadRegion
from analytics.quality import Quality
from analytics.reading import Reading, read
from analytics.reference import Profile, frame_features, light_at
from analytics.road import detect_road, polygon_mask
from analytics.service import camera_thresholds, frame_path
from analytics.weather.history import evidence_for
from cameras.models import Camera, Frame

# Frames merged for road detection: enough for traffic to show where the road is.
DETECTION_FRAMES = 5
# Road regions that are more than a guess from one picture.
KNOWN_ROAD = ("operator", "colour+motion")
# Readings the published state is decided over (analytics.stability).
STABLE_OVER = dt.timedelta(minutes=30)
STABLE_READINGS = 6


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
    """Decide the road's state in one stored frame and store the reading; None when the file
    is gone. An unreadable file, or one that cannot show the road, is stored as Unknown with
    its reason: never a guess."""
    path = frame_path(frame)
    if not path.is_file():
        return None
    camera = frame.camera
    image = decode_frame(frame)
    region = road_region(camera) if image is not None else None
    mask = None
    if image is not None and region is not None:
        mask = polygon_mask(region.effective_polygon(), image.shape[1], image.shape[0])
    weather = evidence_for(camera, frame.captured_at)
    thresholds = camera_thresholds(camera)
    learned = _Learned(camera, frame.captured_at, image, mask)
    known = region is not None and region.source in KNOWN_ROAD
    reading = read(image, mask, weather, thresholds, learned.compare, road_known=known)
    if weather.dry_and_mild(thresholds.freezing_c) and reading.decision.state == State.DRY:
        learned.learn(reading)
    return store_reading(frame, reading, weather, learned.comparison, learned.light)


class _Learned:
    """The camera's learned bare road for this frame's light: compared with, and taught."""

    def __init__(
        self, camera: Camera, at: dt.datetime, image: np.ndarray | None, mask: np.ndarray | None
    ) -> None:
        self.camera, self.at, self.image, self.mask = camera, at, image, mask
        self.light = ""
        self.comparison: ReferenceComparison | None = None

    def compare(self, picture: Condition, quality: Quality) -> ReferenceComparison | None:
        if self.image is None or self.mask is None:
            return None
        self.light = light_at(
            self.at, self.camera.latitude, self.camera.longitude, quality.is_night
        )
        row = RoadReference.objects.filter(camera=self.camera, light=self.light).first()
        if row is not None:
            features = frame_features(self.image, self.mask)
            self.comparison = reference.load(row).compare(features, picture)
        return self.comparison

    def learn(self, reading: Reading) -> None:
        if self.image is None or self.mask is None or reading.picture is None or not self.light:
            return
        features = frame_features(self.image, self.mask)
        row = RoadReference.objects.filter(camera=self.camera, light=self.light).first()
        if row is None:
            row = RoadReference(camera=self.camera, light=self.light)
            profile = Profile.first(features, reading.picture)
        else:
            profile = reference.load(row)
            profile.update(features, reading.picture)
        reference.keep(row, profile)
        try:
            row.save()
        except (ValidationError, IntegrityError):
            # Another worker learned this camera's first frame in this light at the same time.
            return


def store_reading(
    frame: Frame,
    reading: Reading,
    weather: WeatherEvidence,
    comparison: ReferenceComparison | None = None,
    light: str = "",
) -> ConditionReading:
    decision, picture = reading.decision, reading.picture
    published = _published(frame.camera, frame.captured_at, decision)
    row = ConditionReading(
        camera=frame.camera,
        frame=frame,
        measured_at=frame.captured_at,
        state=decision.state,
        level=decision.level,
        reason=decision.reason[:300],
        published_state=published.state,
        published_level=published.level,
        published_reason=published.reason[:300],
        ice_likelihood=decision.ice_likelihood,
        confidence=decision.confidence,
        is_night=reading.quality.is_night,
        light=light,
        temperature_c=weather.temperature_c,
        evidence=weather.as_dict(),
        comparison=comparison.as_dict() if comparison else {},
        notes=decision.notes,
        snow_coverage=picture.snow_coverage if picture else 0.0,
        pale_coverage=picture.pale_coverage if picture else 0.0,
        wetness=picture.wetness if picture else 0.0,
        brightness=min(1.0, picture.brightness) if picture else 0.0,
        road_pixels=picture.road_pixels if picture else 0,
    )
    row.save()
    return row


def _published(camera: Camera, at: dt.datetime, decision: Decision) -> stability.Stated:
    earlier = list(
        ConditionReading.objects.filter(
            camera=camera, measured_at__gte=at - STABLE_OVER, measured_at__lt=at
        ).order_by("-measured_at")[: STABLE_READINGS - 1]
    )
    new = stability.Stated(decision.state, decision.level, decision.reason)
    recent = [new, *(stability.Stated(r.state, r.level, r.reason) for r in earlier)]
    previous = earlier[0] if earlier else None
    before = (
        stability.Stated(
            previous.published_state, previous.published_level, previous.published_reason
        )
        if previous
        else None
    )
    return stability.publish(recent, before)
