"""Read-only analytics endpoints: current condition, history, and the road boundary image.

All of them read stored rows and frames; none of them ever asks a camera for a picture. They
are DRF views so that the public rate limit (REST_FRAMEWORK's throttles) covers them; the
payload builders are shared with the REST API (`/api/cameras/<slug>/analytics`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from rest_framework.decorators import api_view, content_negotiation_class, permission_classes
from rest_framework.exceptions import NotAuthenticated
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.alerts import ForecastStatus, forecast_state
from analytics.kinds import state_label
from analytics.models import ConditionReading
from analytics.service import current_conditions
from cameras.models import Camera

MAX_HISTORY_HOURS = 168
ASCII_DIGITS = re.compile(r"[0-9]{1,9}")
FORMATS = ("png", "jpeg", "json")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class AnyAccept(BaseContentNegotiation):
    """The road boundary is an image for `<img>`, whose Accept names image types only: answer
    in what the view returns instead of refusing with 406."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser:
        return next(iter(parsers))

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class FramesForStaff(BasePermission):
    """The road boundary as a picture (png, jpeg) is a camera frame: staff only, whatever
    masks the camera has. Its metadata (json) stays public: numbers and a polygon, no pixels.
    An anonymous client is answered 401 (log in), a signed-in non-staff user 403."""

    message = (
        "The road boundary picture is a camera frame: sign in as staff (the admin), "
        "or ask for format=json."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.GET.get("format", "png") == "json":
            return True
        if not (request.user and request.user.is_authenticated):
            # DRF would answer its own words; these say what to do.
            raise NotAuthenticated(self.message)
        return bool(request.user.is_staff)


def _error(exc: BadRequest) -> Response:
    return Response({"error": str(exc)}, status=exc.status)


def _camera(request: Request) -> Camera:
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


def parse_hours(text: str) -> int:
    """ASCII digits only: `int()` would also take "٥" (Arabic-Indic five), "1_0" and "+5"."""
    message = f"hours must be a whole number from 1 to {MAX_HISTORY_HOURS}, not “{text}”."
    if not ASCII_DIGITS.fullmatch(text):
        raise BadRequest(message)
    hours = int(text)
    if not 1 <= hours <= MAX_HISTORY_HOURS:
        raise BadRequest(message)
    return hours


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def reading_json(reading: ConditionReading) -> dict[str, Any]:
    """One reading: its own state and the published one (what the public was shown)."""
    return {
        "measured_at": reading.measured_at.isoformat(),
        "state": reading.state,
        "reason": reading.reason,
        "level": reading.level or None,
        "label": state_label(reading.state, reading.level),
        "published": {
            "state": reading.published_state,
            "label": state_label(reading.published_state, reading.published_level),
            "level": reading.published_level or None,
            "reason": reading.published_reason,
        },
        "snow_coverage": reading.snow_coverage,
        "pale_coverage": reading.pale_coverage,
        "wetness": reading.wetness,
        "ice_likelihood": reading.ice_likelihood,
        "brightness": reading.brightness,
        "confidence": reading.confidence,
        "is_night": reading.is_night,
        "temperature_c": reading.temperature_c,
        "road_pixels": reading.road_pixels,
        "light": reading.light,
        "evidence": reading.evidence,
        "comparison": reading.comparison,
    }


def current_payload(camera: Camera) -> dict[str, Any]:
    """The latest reading, alerts and forecast of one camera."""
    now = timezone.now()
    conditions = current_conditions(camera, now)
    state = forecast_state(camera, now)
    reading = ConditionReading.objects.filter(camera=camera).first()
    return {
        "camera": camera.slug,
        "condition": reading_json(reading) if reading else None,
        "current": conditions.state is not None,
        "temperature_c": conditions.temperature_c,
        # The alert texts are worded in these units (metric or us); the numbers stay metric.
        "units": camera.display_units.value,
        "alerts": [a.to_json() for a in state.alerts],
        "forecast": {
            "status": state.status,
            "message": state.message or ForecastStatus(state.status).label,
            "provider": state.provider,
            "fetched_at": _iso(state.fetched_at),
            "hours": [h.to_json() for h in state.hours],
        },
    }


def history_payload(camera: Camera, hours: int) -> dict[str, Any]:
    """The readings of the last `hours`, oldest first."""
    since = timezone.now() - dt.timedelta(hours=hours)
    readings = ConditionReading.objects.filter(camera=camera, measured_at__gte=since).order_by(
        "measured_at"
    )
    return {"camera": camera.slug, "hours": hours, "readings": [reading_json(r) for r in readings]}


@api_view(["GET"])
def analytics_current(request: Request) -> Response:
    try:
        camera = _camera(request)
    except BadRequest as exc:
        return _error(exc)
    return Response(current_payload(camera))


@api_view(["GET"])
def analytics_history(request: Request) -> Response:
    try:
        camera = _camera(request)
        hours = parse_hours(request.GET.get("hours", "24").strip())
    except BadRequest as exc:
        return _error(exc)
    return Response(history_payload(camera, hours))


@api_view(["GET"])
@content_negotiation_class(AnyAccept)
@permission_classes([FramesForStaff])
def road_boundaries(request: Request) -> HttpResponse:
    """The camera's newest stored frame with its road region: `format=png` (drawn),
    `jpeg` (the stored frame as it is) or `json` (the numbers). The pictures are for staff
    only (FramesForStaff) and are always the stored frame, which capture has masked
    (cameras.masks): never a fresh grab, never anything unmasked."""
    # Here, not at the top: the web process loads OpenCV only when this view is asked for.
    from analytics import boundaries

    try:
        camera = _camera(request)
        kind = request.GET.get("format", "png")
        if kind not in FORMATS:
            raise BadRequest(f"format must be one of {', '.join(FORMATS)}, not “{kind}”.")
        view = boundaries.latest(camera)
    except BadRequest as exc:
        return _error(exc)
    if view is None:
        return Response({"error": f"No stored frame of “{camera.slug}” yet."}, status=404)
    if kind == "json":
        response: HttpResponse = Response(view.metadata())
    elif kind == "jpeg":
        response = HttpResponse(view.jpeg, content_type="image/jpeg")
    else:
        response = HttpResponse(view.overlay_png(), content_type="image/png")
    for name, value in view.headers().items():
        response[name] = value
    # The admin's refresh button must see a new frame, not a cached one.
    response["Cache-Control"] = "no-cache"
    return response
