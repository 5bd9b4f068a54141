"""A camera's days at a glance (sequences.digest): the timelapse MP4 and the day strip of a
local date, served like the loops (byte ranges, nginx when configured, MEDIA_RATE)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from sequences.models import DayDigest
from sequences.views.latest import send_built_file

CONTENT_TYPES = {"mp4": "video/mp4", "png": "image/png"}
# A built day changes only when an operator rebuilds it.
FRESH_SECONDS = 3600


def find_day(slug: str, date: str) -> DayDigest:
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise Http404("Give the date as YYYY-MM-DD.") from exc
    digest = (
        DayDigest.objects.filter(camera__slug=slug, camera__enabled=True, date=day)
        .select_related("camera")
        .first()
    )
    if digest is None:
        raise Http404("No day at a glance for that camera and date.")
    return digest


@require_safe
def camera_day_file(request: HttpRequest, slug: str, date: str, kind: str) -> HttpResponseBase:
    if kind not in CONTENT_TYPES:
        raise Http404(f"Unknown format “{kind}”; use mp4 or png.")
    digest = find_day(slug, date)
    relative, size = (
        (digest.mp4, digest.mp4_bytes)
        if kind == "mp4"
        else (
            digest.strip,
            digest.strip_bytes,
        )
    )
    if not relative or digest.built_at is None:
        raise Http404("That day has no such file (no daylight, or no frames).")
    return send_built_file(
        request,
        relative,
        CONTENT_TYPES[kind],
        etag=f'"day-{digest.pk}-{kind}-{size}-{int(digest.built_at.timestamp())}"',
        built_at=digest.built_at,
        filename=f"{digest.camera.slug}-{digest.date.isoformat()}.{kind}",
        max_age=FRESH_SECONDS,
    )
