"""What other apps read of the road condition: `current_conditions(camera)`, and a camera's
thresholds and labels. Light on purpose: the web process imports it, and image analysis
(NumPy, OpenCV) lives in `analytics.analysis`, which only the worker runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from analytics import labels
from analytics.alerts import ForecastStatus, forecast_state
from analytics.kinds import Level, State, Thresholds, state_label, style_key
from analytics.models import ConditionReading, ConditionThresholds, FrameLabel
from cameras.models import Camera, Frame

# A reading older than this is not "current" (the camera is probably down).
CURRENT_FOR = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Conditions:
    """What the overlay, viewer and status show: the published state. `label` is the public
    wording ("Light snow"), `level_label` the closed product's ("Light"); both are None when
    the state is Unknown or there is no current reading, and the overlay then shows "—"."""

    state: str | None
    level: str | None
    label: str | None
    temperature_c: float | None
    alerts: list[str] = field(default_factory=list)
    forecast_status: str = ForecastStatus.PENDING
    forecast_message: str = ""
    measured_at: dt.datetime | None = None
    confidence: float | None = None
    reason: str = ""

    @property
    def level_label(self) -> str | None:
        return Level(self.level).label if self.level else None

    @property
    def style(self) -> str:
        return style_key(self.state or State.UNKNOWN, self.level or "")


def frame_path(frame: Frame) -> Path:
    return Path(settings.MEDIA_ROOT) / frame.file


def camera_thresholds(camera: Camera, now: dt.datetime | None = None) -> Thresholds:
    """The camera's thresholds (its row, or the defaults), moved by its operator labels."""
    base = ConditionThresholds.for_camera(camera)
    learned, _notes = labels.learned_thresholds(base, camera_labels(camera))
    return learned


def camera_labels(camera: Camera) -> list[labels.Labelled]:
    rows = FrameLabel.objects.filter(camera=camera).values_list("truth", "said_state", "features")
    return [labels.Labelled(truth, said, features) for truth, said, features in rows]


def camera_agreement(camera: Camera, now: dt.datetime | None = None) -> labels.Agreement:
    since = labels.agreement_since(now or timezone.now())
    rows = FrameLabel.objects.filter(camera=camera, captured_at__gte=since)
    found = rows.values_list("truth", "said_state", "features")
    return labels.agreement(labels.Labelled(t, s, f) for t, s, f in found)


def current_conditions(camera: Camera, now: dt.datetime | None = None) -> Conditions:
    """The published state of the latest reading (if recent), temperature and alerts: one
    call for the overlay, viewer, bundle and status."""
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
    known = reading is not None and reading.published_state != State.UNKNOWN
    return Conditions(
        state=reading.published_state if reading else None,
        level=(reading.published_level or None) if known and reading else None,
        label=state_label(reading.published_state, reading.published_level)
        if known and reading
        else None,
        temperature_c=temperature,
        alerts=[a.text for a in state.alerts],
        forecast_status=state.status,
        forecast_message=state.message,
        measured_at=reading.measured_at if reading else None,
        confidence=reading.confidence if reading else None,
        reason=reading.published_reason if reading else "",
    )
