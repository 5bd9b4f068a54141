"""Operator labels as the admin stores them, and what a camera's labels and learned road add
up to: the agreement, the thresholds the labels moved and the learned bare road per light.
The admin's road-condition panel and `/api/cameras/<slug>/agreement` both read it from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics import labels, service
from analytics.kinds import MIN_SAMPLES, Light
from analytics.models import ConditionReading, ConditionThresholds, FrameLabel, RoadReference
from cameras.models import Camera


@dataclass(frozen=True)
class LearnedRoad:
    """A camera's learned bare road in one light, as the operator sees it."""

    light: str
    samples: int
    updated_at: dt.datetime | None

    @property
    def light_label(self) -> str:
        return str(Light(self.light).label)

    @property
    def in_use(self) -> bool:
        return self.samples >= MIN_SAMPLES

    def as_dict(self) -> dict[str, Any]:
        return {
            "light": self.light,
            "samples": self.samples,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "in_use": self.in_use,
        }


def learned_roads(camera: Camera) -> list[LearnedRoad]:
    """One entry per light, in the order of `Light`; a light never learned has 0 samples."""
    rows = {r.light: r for r in RoadReference.objects.filter(camera=camera)}
    found = []
    for light in Light.values:
        row = rows.get(light)
        found.append(
            LearnedRoad(light, row.samples, row.updated_at) if row else LearnedRoad(light, 0, None)
        )
    return found


def adjustments(camera: Camera) -> list[str]:
    """One line per threshold the camera's labels moved ("snow threshold 0.10 → 0.62 from 3
    labels"); empty when they moved none."""
    base = ConditionThresholds.for_camera(camera)
    _learned, notes = labels.learned_thresholds(base, service.camera_labels(camera))
    return notes


def agreement_body(camera: Camera, now: dt.datetime | None = None) -> dict[str, Any]:
    """The agreement of the last `labels.AGREEMENT_DAYS` days, what the labels changed, and
    the learned bare road per light."""
    return {
        "camera": camera.slug,
        **service.camera_agreement(camera, now).as_dict(),
        "adjustments": adjustments(camera),
        "reference": [road.as_dict() for road in learned_roads(camera)],
    }


def label_reading(
    reading: ConditionReading, truth: str, by: str, now: dt.datetime | None = None
) -> FrameLabel | None:
    """Store what the road really showed in a reading's frame; None when the reading already
    had this label. The label copies what the public was shown (the published state) and
    the picture's measurements, so it outlives the frame and the reading."""
    try:
        return _store(reading, truth, by, now)
    except (ValidationError, IntegrityError):
        # Another operator labelled this reading between the read and the write: the second
        # try updates their label.
        if not FrameLabel.objects.filter(reading=reading).exists():
            raise
        return _store(reading, truth, by, now)


def _store(
    reading: ConditionReading, truth: str, by: str, now: dt.datetime | None
) -> FrameLabel | None:
    label = FrameLabel.objects.filter(reading=reading).first()
    if label is not None and label.truth == truth:
        return None
    label = label or FrameLabel(camera_id=reading.camera_id, reading=reading)
    label.frame_id = reading.frame_id
    label.captured_at = reading.measured_at
    label.truth = truth
    label.said_state = reading.published_state
    label.said_level = reading.published_level
    label.features = reading.features()
    label.labelled_by = by
    label.labelled_at = now or timezone.now()
    with transaction.atomic():
        label.save()
    return label
