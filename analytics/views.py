"""Read-only analytics endpoints: current condition, history, and the road boundary image.

All of them read stored rows and frames; none of them ever asks a camera for a picture.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from analytics import boundaries
from analytics.alerts import ForecastStatus, forecast_state
from analytics.models import ConditionReading
from analytics.service import current_conditions
from cameras.models import Camera

MAX_HISTORY_HOURS = 168
FORMATS = ("png", "jpeg", "json")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _error(exc: BadRequest) -> JsonResponse:
    return JsonResponse({"error": str(exc)}, status=exc.status)


def _camera(request: HttpRequest) -> Camera:
    slug = request.GET.get("camera", "").strip()
    if not slug:
        only = list(Camera.objects.filter(enabled=True)[:2])
        if len(only) == 1:
            return only[0]
        raise BadRequest("Give the camera: ?camera=<slug>.")
    camera = Camera.objects.filter(slug=slug).first()
    if camera is None:
        raise BadRequest(f"No camera “{slug}”.", status=404)
    return camera


def _hours(request: HttpRequest) -> int:
    text = request.GET.get("hours", "24").strip()
    message = f"hours must be a whole number from 1 to {MAX_HISTORY_HOURS}, not “{text}”."
    try:
        hours = int(text)
    except ValueError:
        raise BadRequest(message) from None
    if not 1 <= hours <= MAX_HISTORY_HOURS:
        raise BadRequest(message)
    return hours


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def reading_json(reading: ConditionReading) -> dict[str, Any]:
    return {
        "measured_at": reading.measured_at.isoformat(),
        "level": reading.level,
        "label": reading.get_level_display(),
        "snow_coverage": reading.snow_coverage,
        "wetness": reading.wetness,
        "ice_likelihood": reading.ice_likelihood,
        "brightness": reading.brightness,
        "confidence": reading.confidence,
        "is_night": reading.is_night,
        "temperature_c": reading.temperature_c,
        "road_pixels": reading.road_pixels,
    }


@require_GET
def analytics_current(request: HttpRequest) -> JsonResponse:
    try:
        camera = _camera(request)
    except BadRequest as exc:
        return _error(exc)
    now = timezone.now()
    conditions = current_conditions(camera, now)
    state = forecast_state(camera, now)
    reading = ConditionReading.objects.filter(camera=camera).first()
    return JsonResponse(
        {
            "camera": camera.slug,
            "condition": reading_json(reading) if reading else None,
            "current": conditions.level is not None,
            "temperature_c": conditions.temperature_c,
            "alerts": [a.to_json() for a in state.alerts],
            "forecast": {
                "status": state.status,
                "message": state.message or ForecastStatus(state.status).label,
                "provider": state.provider,
                "fetched_at": _iso(state.fetched_at),
                "hours": [h.to_json() for h in state.hours],
            },
        }
    )


@require_GET
def analytics_history(request: HttpRequest) -> JsonResponse:
    try:
        camera = _camera(request)
        hours = _hours(request)
    except BadRequest as exc:
        return _error(exc)
    since = timezone.now() - dt.timedelta(hours=hours)
    readings = ConditionReading.objects.filter(camera=camera, measured_at__gte=since).order_by(
        "measured_at"
    )
    return JsonResponse(
        {"camera": camera.slug, "hours": hours, "readings": [reading_json(r) for r in readings]}
    )


@require_GET
def road_boundaries(request: HttpRequest) -> HttpResponse:
    try:
        camera = _camera(request)
        kind = request.GET.get("format", "png")
        if kind not in FORMATS:
            raise BadRequest(f"format must be one of {', '.join(FORMATS)}, not “{kind}”.")
        view = boundaries.latest(camera)
    except BadRequest as exc:
        return _error(exc)
    if view is None:
        return JsonResponse({"error": f"No stored frame of “{camera.slug}” yet."}, status=404)
    if kind == "json":
        response: HttpResponse = JsonResponse(view.metadata())
    elif kind == "jpeg":
        response = HttpResponse(view.jpeg, content_type="image/jpeg")
    else:
        response = HttpResponse(view.overlay_png(), content_type="image/png")
    for name, value in view.headers().items():
        response[name] = value
    # The admin's refresh button must see a new frame, not a cached one.
    response["Cache-Control"] = "no-cache"
    return response
