from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from cameras.models import Camera
from sequences.choices import OutputFormat
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


def negotiated(request: HttpRequest, sequence: Sequence) -> OutputFormat:
    """WebP to browsers that say they take it (far smaller), the GIF to everything else."""
    if sequence.webp and "image/webp" in request.headers.get("Accept", ""):
        return OutputFormat.WEBP
    return OutputFormat.GIF


def serve(request: HttpRequest, sequence: Sequence, kind: OutputFormat) -> HttpResponse:
    relative, _size = sequence.file_for(kind)
    if not relative:
        raise Http404(f"This sequence has no {kind.label}.")
    etag = sequence.etag_for(kind)
    last_modified = int(sequence.built_at.timestamp())
    conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if isinstance(conditional, HttpResponseNotModified):
        response: HttpResponse = conditional
    else:
        try:
            handle = (Path(settings.MEDIA_ROOT) / relative).open("rb")
        except FileNotFoundError as exc:
            raise Http404("The sequence file is gone.") from exc
        response = FileResponse(handle, content_type=kind.content_type)  # type: ignore[assignment]
        filename = f"{sequence.camera.slug}.{kind.value}"
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=fresh_for_seconds(sequence))
    return response


@require_GET
def sequence_latest(request: HttpRequest) -> HttpResponse:
    """The first enabled camera's latest loop, or `?camera=<slug>`'s."""
    sequence = latest_for(request.GET.get("camera"))
    response = serve(request, sequence, negotiated(request, sequence))
    patch_vary_headers(response, ["Accept"])
    return response


@require_GET
def camera_sequence_latest(request: HttpRequest, slug: str) -> HttpResponse:
    sequence = latest_for(slug)
    response = serve(request, sequence, negotiated(request, sequence))
    patch_vary_headers(response, ["Accept"])
    return response


@require_GET
def camera_sequence_latest_format(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    if kind not in OutputFormat.values:
        raise Http404(f"Unknown format “{kind}”; use gif, mp4 or webp.")
    return serve(request, latest_for(slug), OutputFormat(kind))
