"""/status (and /api/status): per camera its health, last frame, last sequence, conditions
and what it stores; the installation's checks, storage, version and publish state."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.service import current_conditions
from cameras.models import Camera, Frame
from cameras.units import temperature_text
from imgserv_site.health import run_checks
from publishing.models import publish_state
from sequences.choices import OutputFormat
from sequences.models import DayDigest, Sequence


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


# MB as MEDIA_QUOTA_MB and MIN_FREE_DISK_MB count them.
MB = 2**20


@dataclass
class Stored:
    """What one camera (or all) keeps: counts and bytes, from the rows' own sizes."""

    frames: int = 0
    frame_bytes: int = 0
    sequences: int = 0
    sequence_bytes: int = 0
    days: int = 0
    day_bytes: int = 0

    @property
    def bytes(self) -> int:
        return self.frame_bytes + self.sequence_bytes + self.day_bytes

    def add(self, other: Stored) -> None:
        self.frames += other.frames
        self.frame_bytes += other.frame_bytes
        self.sequences += other.sequences
        self.sequence_bytes += other.sequence_bytes
        self.days += other.days
        self.day_bytes += other.day_bytes


def stored_by_camera() -> dict[int, Stored]:
    """Three grouped queries, whatever the number of cameras or files: no walk of MEDIA_ROOT.
    (The sizes are those recorded when each file was written, which is what the quota counts.)"""
    found: dict[int, Stored] = {}
    frames = Frame.objects.values("camera").annotate(n=Count("id"), size=Sum("size_bytes"))
    for frame_row in frames.order_by():
        frame_total = Stored(frame_row["n"], frame_row["size"] or 0)
        found.setdefault(frame_row["camera"], Stored()).add(frame_total)
    sequences = Sequence.objects.values("camera").annotate(
        n=Count("id"), gif=Sum("gif_bytes"), mp4=Sum("mp4_bytes"), webp=Sum("webp_bytes")
    )
    for row in sequences.order_by():
        size = (row["gif"] or 0) + (row["mp4"] or 0) + (row["webp"] or 0)
        sequence_total = Stored(sequences=row["n"], sequence_bytes=size)
        found.setdefault(row["camera"], Stored()).add(sequence_total)
    days = DayDigest.objects.values("camera").annotate(
        n=Count("id"), mp4=Sum("mp4_bytes"), strip=Sum("strip_bytes")
    )
    for day_row in days.order_by():
        size = (day_row["mp4"] or 0) + (day_row["strip"] or 0)
        found.setdefault(day_row["camera"], Stored()).add(Stored(days=day_row["n"], day_bytes=size))
    return found


def free_disk_bytes() -> int:
    """Free space where media are written (the nearest folder that exists yet)."""
    path = Path(settings.MEDIA_ROOT)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def megabytes(size: int) -> float:
    return round(size / MB, 1)


def storage_status(total: Stored) -> dict[str, Any]:
    """Media used against the quota (MEDIA_QUOTA_MB; null and no percentage without a cap)
    and the disk's free space against the floor retention keeps (MIN_FREE_DISK_MB)."""
    quota_mb = settings.MEDIA_QUOTA_MB or None
    return {
        "used_bytes": total.bytes,
        "used_mb": megabytes(total.bytes),
        "quota_mb": quota_mb,
        "percent_used": round(100 * total.bytes / (quota_mb * MB), 1) if quota_mb else None,
        "frames": {
            "count": total.frames,
            "bytes": total.frame_bytes,
            "mb": megabytes(total.frame_bytes),
        },
        "sequences": {
            "count": total.sequences,
            "bytes": total.sequence_bytes,
            "mb": megabytes(total.sequence_bytes),
        },
        "days": {"count": total.days, "bytes": total.day_bytes, "mb": megabytes(total.day_bytes)},
        "free_disk_mb": free_disk_bytes() // MB,
        "min_free_disk_mb": settings.MIN_FREE_DISK_MB,
    }


def camera_status(camera: Camera, stored: Stored | None = None) -> dict[str, Any]:
    """Public fields only: no source settings, which may hold hosts and passwords."""
    opts = getattr(camera, "sequence_settings", None)
    stored = stored or Stored()
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
        "frames_stored": stored.frames,
        "sequences_stored": stored.sequences,
        "days_stored": stored.days,
        "stored_mb": megabytes(stored.bytes),
        "update_interval_minutes": camera.update_interval_minutes,
        "units": camera.display_units.value,
        "last_build_error": opts.last_build_error if opts else "",
        "last_sequence": sequence_status(camera.sequences.first()),
        "conditions": conditions_status(camera),
    }


def conditions_status(camera: Camera) -> dict[str, Any]:
    """`temperature_c` is °C whatever the camera's units; `temperature` is the viewer's text
    in them, and the alert texts are worded in them too."""
    now = current_conditions(camera)
    units = camera.display_units
    return {
        "state": now.state,
        "style": now.style,
        "label": now.label,
        "level": now.level_label,
        "reason": now.reason,
        "measured_at": now.measured_at,
        "confidence": now.confidence,
        "temperature_c": now.temperature_c,
        "temperature": temperature_text(now.temperature_c, units),
        "units": units.value,
        "alerts": now.alerts,
        "forecast": now.forecast_status,
        "forecast_message": now.forecast_message,
    }


class StatusView(APIView):
    """Per camera: health, last frame, last sequence, what it stores; the installation's
    checks, storage and version; each publish target's state."""

    def get(self, request: Request) -> Response:
        cameras = Camera.objects.select_related("sequence_settings")
        stored = stored_by_camera()
        total = Stored()
        for each in stored.values():
            total.add(each)
        checks = run_checks()
        return Response(
            {
                "version": settings.VERSION,
                "generated_at": timezone.now(),
                "healthy": all(c["ok"] for c in checks.values()),
                "checks": checks,
                "storage": storage_status(total),
                "cameras": [camera_status(c, stored.get(c.pk)) for c in cameras],
                "publishing": publish_state(),
            }
        )
