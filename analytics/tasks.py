"""Django-Q2 tasks of the analytics app: thin, keyed by primary key, safe to re-run."""

from __future__ import annotations

from analytics import alerts, analysis
from analytics.models import ConditionReading
from cameras.models import Camera, Frame


def analyze_frame(frame_id: int) -> str:
    frame = Frame.objects.select_related("camera").filter(pk=frame_id).first()
    if frame is None:
        return "frame gone"
    if ConditionReading.objects.filter(frame=frame).exists():
        return "already analysed"
    reading = analysis.analyze_frame(frame)
    if reading is None:
        return "frame file gone"
    return f"{reading.state}: {reading.reason}"


def analyze_latest_frames() -> str:
    """Scheduled every minute: the newest frame of each enabled camera, once."""
    done = 0
    for camera in Camera.objects.filter(enabled=True):
        frame = Frame.objects.filter(camera=camera).order_by("-captured_at").first()
        if frame is not None and analyze_frame(frame.pk) != "already analysed":
            done += 1
    return f"{done} frames analysed"


def refresh_forecast(camera_id: int) -> str:
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is None:
        return "camera gone"
    snapshot = alerts.refresh_forecast(camera)
    if snapshot is None:
        return "no location"
    return snapshot.error or f"{snapshot.provider}: {len(snapshot.alerts)} alerts"


def refresh_forecasts() -> str:
    """Scheduled: every enabled camera that has a place."""
    cameras = Camera.objects.filter(enabled=True, latitude__isnull=False, longitude__isnull=False)
    results = [refresh_forecast(camera.pk) for camera in cameras]
    return f"{len(results)} forecasts refreshed"


def redetect_roads() -> str:
    """Scheduled daily: the road follows the camera if it was moved or re-aimed."""
    regions = [analysis.detect_region(camera) for camera in Camera.objects.filter(enabled=True)]
    return f"{sum(r is not None for r in regions)} road regions detected"
