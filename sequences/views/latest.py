from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from cameras.models import Camera
from sequences.models import Sequence


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


def serve(request: HttpRequest, sequence: Sequence) -> HttpResponse:
    last_modified = int(sequence.built_at.timestamp())
    conditional = get_conditional_response(request, etag=sequence.etag, last_modified=last_modified)
    if isinstance(conditional, HttpResponseNotModified):
        response: HttpResponse = conditional
    else:
        path = Path(settings.MEDIA_ROOT) / sequence.gif
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise Http404("The sequence file is gone.") from exc
        response = FileResponse(handle, content_type="image/gif")  # type: ignore[assignment]
        response["Content-Disposition"] = f'inline; filename="{sequence.camera.slug}.gif"'
    response["ETag"] = sequence.etag
    response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=fresh_for_seconds(sequence))
    return response


@require_GET
def sequence_latest(request: HttpRequest) -> HttpResponse:
    """The first enabled camera's latest GIF, or `?camera=<slug>`'s."""
    return serve(request, latest_for(request.GET.get("camera")))


@require_GET
def camera_sequence_latest(request: HttpRequest, slug: str) -> HttpResponse:
    return serve(request, latest_for(slug))
