from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from cameras.models import Camera
from sequences.models import Sequence


@dataclass
class Tile:
    camera: Camera
    sequence: Sequence | None


def tiles(slug: str | None = None) -> list[Tile]:
    cameras = Camera.objects.filter(enabled=True)
    if slug:
        cameras = cameras.filter(pk=get_object_or_404(cameras, slug=slug).pk)
    return [Tile(camera=c, sequence=c.sequences.first()) for c in cameras]


@require_GET
def viewer(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    return render(request, "viewer.html", {"tiles": tiles(slug), "compact": False, "slug": slug})


@require_GET
def iframe(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Compact viewer for embedding in another site's page."""
    return render(request, "viewer.html", {"tiles": tiles(slug), "compact": True, "slug": slug})
