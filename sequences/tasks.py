"""Django-Q2 tasks of the sequences app."""

from __future__ import annotations

import logging

from django.utils import timezone

from cameras.models import Camera
from sequences.builder import BuildError
from sequences.builder import build_sequence as build
from sequences.models import SequenceSettings
from sequences.retention import (
    Plan,
    apply_plan,
    excess_bytes,
    find_orphans,
    plan_cleanup,
    plan_quota,
    remove_orphans,
    remove_stale_temp_files,
)

log = logging.getLogger(__name__)


def build_sequence(camera_id: int) -> str:
    """Build one camera's sequence; a failure is recorded for /status and the admin."""
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is None:
        return "camera gone"
    try:
        sequence = build(camera)
    except (BuildError, OSError) as exc:
        message = str(exc) if isinstance(exc, BuildError) else f"Could not write: {exc.strerror}."
        log.error("camera %s: sequence build failed: %s", camera.slug, message)
        SequenceSettings.objects.filter(camera=camera).update(last_build_error=message[:300])
        return message
    SequenceSettings.objects.filter(camera=camera).update(last_build_error="")
    return f"{camera.slug}: {sequence.frame_count} frames, {sequence.gif_bytes} bytes"


def cleanup() -> str:
    now = timezone.now()
    freed = apply_plan(plan_cleanup(now))
    temps = remove_stale_temp_files(now)
    orphans = remove_orphans(find_orphans(now))
    return f"freed {freed} bytes, {temps} abandoned temp files and {orphans} orphans"


def hold_disk() -> str:
    """Every minute, and whether frames are being stored or not: a full disk stops capture
    from storing anything, and this is what frees it."""
    if excess_bytes(Plan()) <= 0:
        return "within quota and free-space floor"
    freed = apply_plan(plan_quota(Plan()))
    return f"freed {freed} bytes"
