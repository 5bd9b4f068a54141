from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.request import MediaType
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from rest_framework.throttling import SimpleRateThrottle

from cameras.models import Camera
from sequences.choices import OutputFormat
from sequences.models import Sequence
from sequences.views.files import send_file


class MediaRateThrottle(SimpleRateThrottle):
    """Whole media files per client address (settings.MEDIA_RATE)."""

    scope = "media"

    def get_rate(self) -> str:
        return str(settings.MEDIA_RATE)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def latest_for(slug: str | None) -> Sequence:
    cameras = Camera.objects.filter(enabled=True)
    camera = cameras.filter(slug=slug).first() if slug else cameras.first()
    sequence = camera.sequences.first() if camera else None
    if sequence is None:
        raise Http404("No sequence has been built yet.")
    return sequence


def fresh_for_seconds(sequence: Sequence) -> int:
    """Until the next build is due, so caches never hold a sequence past its successor."""
    next_build = sequence.built_at + dt.timedelta(minutes=sequence.camera.update_interval_minutes)
    return max(5, int((next_build - timezone.now()).total_seconds()))


def accepted(accept: str, media_type: str) -> tuple[int, float]:
    """How the Accept header ranks `media_type`: (how specific the range that decided it is,
    its q value). The most specific range wins (`image/webp;q=0` over `image/*` over `*/*`),
    as RFC 9110 says; (-1, 0.0) when no range names it."""
    main, sub = media_type.split("/")
    best = (-1, 0.0)
    for token in accept.split(","):
        if not token.strip():
            continue
        given = MediaType(token)
        if (given.main_type, given.sub_type) == (main, sub):
            specificity = 2
        elif (given.main_type, given.sub_type) in ((main, "*"), ("*", "*")):
            specificity = 0 if given.main_type == "*" else 1
        else:
            continue
        if specificity > best[0]:
            best = (specificity, float(given.quality))
    return best


def negotiated(request: HttpRequest, sequence: Sequence) -> OutputFormat:
    """WebP (far smaller) to clients that name it with a q above 0 and like it at least as
    much as the GIF; the GIF to everything else. Only a client that names image/webp gets it:
    `*/*` or `image/*` alone is what old browsers without WebP send."""
    accept = request.headers.get("Accept", "")
    specificity, webp = accepted(accept, OutputFormat.WEBP.content_type)
    if sequence.webp and specificity == 2 and webp > 0:
        _, gif = accepted(accept, OutputFormat.GIF.content_type)
        if webp >= gif:
            return OutputFormat.WEBP
    return OutputFormat.GIF


def serve(request: HttpRequest, sequence: Sequence, kind: OutputFormat) -> HttpResponseBase:
    relative, _size = sequence.file_for(kind)
    if not relative:
        raise Http404(f"This sequence has no {kind.label}.")
    return send_built_file(
        request,
        relative,
        kind.content_type,
        etag=sequence.etag_for(kind),
        built_at=sequence.built_at,
        filename=f"{sequence.camera.slug}.{kind.value}",
        max_age=fresh_for_seconds(sequence),
    )


def send_built_file(
    request: HttpRequest,
    relative: str,
    content_type: str,
    *,
    etag: str,
    built_at: dt.datetime,
    filename: str,
    max_age: int,
) -> HttpResponseBase:
    """A built file under MEDIA_ROOT with its validators: 304 when the client has it, else
    the file (or nginx's), within MEDIA_RATE."""
    last_modified = int(built_at.timestamp())
    conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if isinstance(conditional, HttpResponseNotModified):
        response: HttpResponseBase = conditional
    else:
        limited = media_limit(request)
        if limited is not None:
            return limited
        response = send_file(request, relative, content_type, etag, filename)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=max_age)
    return response


def media_limit(request: HttpRequest) -> HttpResponse | None:
    """MEDIA_RATE whole files per client without nginx: a 3 MB loop fetched in a loop would
    otherwise fill the line. Behind nginx (MEDIA_ACCEL_PREFIX) nginx sends them, and its own
    limit applies. Answers that cost nothing (304) are not counted."""
    if settings.MEDIA_ACCEL_PREFIX:
        return None
    throttle = MediaRateThrottle()
    anonymous = SimpleNamespace(user=None, META=request.META, headers=request.headers)
    if throttle.allow_request(anonymous, None):  # type: ignore[arg-type]
        return None
    response = HttpResponse("Too many requests for this file; try again shortly.", status=429)
    response["Content-Type"] = "text/plain; charset=utf-8"
    response["Retry-After"] = str(math.ceil(throttle.wait() or 1))
    return response


@require_safe
def sequence_latest(request: HttpRequest) -> HttpResponseBase:
    """The first enabled camera's latest loop, or `?camera=<slug>`'s."""
    sequence = latest_for(request.GET.get("camera"))
    response = serve(request, sequence, negotiated(request, sequence))
    patch_vary_headers(response, ["Accept"])
    return response


@require_safe
def camera_sequence_latest(request: HttpRequest, slug: str) -> HttpResponseBase:
    sequence = latest_for(slug)
    response = serve(request, sequence, negotiated(request, sequence))
    patch_vary_headers(response, ["Accept"])
    return response


@require_safe
def camera_sequence_latest_format(request: HttpRequest, slug: str, kind: str) -> HttpResponseBase:
    if kind not in OutputFormat.values:
        raise Http404(f"Unknown format “{kind}”; use gif, mp4 or webp.")
    return serve(request, latest_for(slug), OutputFormat(kind))
