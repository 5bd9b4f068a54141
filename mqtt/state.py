"""A camera's state as MQTT publishes it, read from what the other apps stored: the newest
reading's published road state, the forecast's temperature and alerts (as the viewer shows
them, in the camera's units), the camera's health, and its newest stored frame."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings

from analytics.alerts import forecast_state
from analytics.kinds import State
from analytics.models import ConditionReading
from cameras.models import Camera, Frame, SourceKind
from cameras.units import degree_sign, temperature_in
from mqtt.topics import LATE, CameraState


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def camera_state(camera: Camera, now: dt.datetime, frame: Frame | None = None) -> CameraState:
    reading = ConditionReading.objects.filter(camera=camera).order_by("-measured_at").first()
    forecast = forecast_state(camera, now)
    units = camera.display_units
    celsius = forecast.temperature_c
    source = forecast.provider
    if celsius is None and reading is not None and reading.temperature_c is not None:
        celsius, source = reading.temperature_c, "reading"
    road = State(reading.published_state) if reading else State.UNKNOWN
    return CameraState(
        slug=camera.slug,
        name=camera.name,
        model=f"{SourceKind(camera.source_kind).label} camera",
        road=road.value,
        road_attributes={
            "label": road.label,
            "reason": reading.published_reason if reading else "No reading yet.",
            "level": reading.published_level if reading else "",
            "measured_at": iso(reading.measured_at) if reading else None,
        },
        temperature=None if celsius is None else round(temperature_in(celsius, units), 1),
        temperature_unit=degree_sign(units),
        temperature_attributes={"source": source or None, "forecast": forecast.status},
        alerts=[alert.to_json() for alert in forecast.alerts],
        health=LATE if camera.is_late(now) else camera.health,
        health_attributes={
            "last_error": camera.last_error,
            "consecutive_failures": camera.consecutive_failures,
            "last_frame_at": iso(camera.last_frame_at),
        },
        frame_attributes=frame_attributes(frame),
    )


def newest_frame(camera: Camera) -> Frame | None:
    return Frame.objects.filter(camera=camera).order_by("-captured_at").first()


def frame_attributes(frame: Frame | None) -> dict[str, object]:
    if frame is None:
        return {}
    return {
        "captured_at": iso(frame.captured_at),
        "width": frame.width,
        "height": frame.height,
        "frame": frame.pk,
    }


def frame_jpeg(frame: Frame) -> bytes | None:
    """The stored file: masked, as every output is (cameras.capture.store_frame); None when
    retention removed it meanwhile."""
    try:
        return (Path(settings.MEDIA_ROOT) / frame.file).read_bytes()
    except OSError:
        return None
