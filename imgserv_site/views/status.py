from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.service import current_conditions
from cameras.models import Camera
from imgserv_site.health import run_checks
from publishing.models import publish_state
from sequences.choices import OutputFormat
from sequences.models import Sequence


def sequence_status(sequence: Sequence | None) -> dict[str, Any] | None:
    if sequence is None:
        return None
    return {
        "id": sequence.pk,
        "built_at": sequence.built_at,
        "frame_count": sequence.frame_count,
        "first_captured_at": sequence.first_captured_at,
        "last_captured_at": sequence.last_captured_at,
        "gif_bytes": sequence.gif_bytes,
        "build_seconds": round(sequence.build_seconds, 3),
        "url": sequence.get_absolute_url(),
        "urls": {
            kind.value: sequence.url_for(kind)
            for kind in OutputFormat
            if sequence.file_for(kind)[0]
        },
        "bytes": {kind.value: sequence.file_for(kind)[1] for kind in OutputFormat},
    }


def camera_status(camera: Camera) -> dict[str, Any]:
    """Public fields only: no source settings, which may hold hosts and passwords."""
    opts = getattr(camera, "sequence_settings", None)
    return {
        "slug": camera.slug,
        "name": camera.name,
        "location_name": camera.location_name,
        "time_zone": camera.time_zone,
        "enabled": camera.enabled,
        "source_kind": camera.source_kind,
        "health": camera.health,
        "last_frame_at": camera.last_frame_at,
        "last_attempt_at": camera.last_attempt_at,
        "consecutive_failures": camera.consecutive_failures,
        "last_error": camera.last_error,
        "frames_stored": getattr(camera, "frame_total", None),
        "update_interval_minutes": camera.update_interval_minutes,
        "last_build_error": opts.last_build_error if opts else "",
        "last_sequence": sequence_status(camera.sequences.first()),
        "conditions": conditions_status(camera),
    }


def conditions_status(camera: Camera) -> dict[str, Any]:
    now = current_conditions(camera)
    return {
        "state": now.state,
        "style": now.style,
        "label": now.label,
        "level": now.level_label,
        "reason": now.reason,
        "measured_at": now.measured_at,
        "confidence": now.confidence,
        "temperature_c": now.temperature_c,
        "alerts": now.alerts,
        "forecast": now.forecast_status,
        "forecast_message": now.forecast_message,
    }


class StatusView(APIView):
    """Per camera: health, last frame, last sequence; the installation's checks; the version;
    each publish target's state."""

    def get(self, request: Request) -> Response:
        cameras = Camera.objects.select_related("sequence_settings").annotate(
            frame_total=Count("frames")
        )
        checks = run_checks()
        return Response(
            {
                "version": settings.VERSION,
                "generated_at": timezone.now(),
                "healthy": all(c["ok"] for c in checks.values()),
                "checks": checks,
                "cameras": [camera_status(c) for c in cameras],
                "publishing": publish_state(),
            }
        )
