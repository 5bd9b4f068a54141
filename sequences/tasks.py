"""Django-Q2 tasks of the sequences app."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from cameras.models import Camera, Frame
from sequences import digest
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


# Frames captured just before midnight are stored a few seconds after it: the day is built
# once its camera's local time is past this.
DIGEST_AFTER = dt.time(0, 10)


def build_day(camera_id: int, date_iso: str) -> str:
    """Build (or rebuild) one camera's digest of one local date; a failure is recorded on the
    day's row for the admin, the API and the viewer."""
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is None:
        return "camera gone"
    day = dt.date.fromisoformat(date_iso)
    try:
        built = digest.build_day(camera, day)
    except Exception as exc:  # any failure: recorded on the row, never lost in the queue
        message = f"Could not write: {exc.strerror}." if isinstance(exc, OSError) else str(exc)
        log.exception("camera %s: day %s digest failed", camera.slug, day)
        digest.record_failure(camera, day, message or type(exc).__name__)
        return message
    return (
        f"{camera.slug} {day}: {built.get_status_display()}, {built.frame_count} frames, "
        f"{built.daylight_frames} in daylight, {built.skipped_frames} unreadable"
    )


def build_due_days() -> str:
    """Every 15 minutes: queue yesterday's digest of each camera whose local time is past
    DIGEST_AFTER and that stored frames yesterday, once (the day's row is the claim; a claim
    whose worker died is taken again after digest.STALE_CLAIM)."""
    now = timezone.now()
    queued = []
    for camera in Camera.objects.filter(enabled=True):
        if now.astimezone(camera.tz).time() < DIGEST_AFTER:
            continue
        day = digest.yesterday(camera, now)
        start, end = digest.day_bounds(camera, day)
        had_frames = Frame.objects.filter(
            camera=camera, captured_at__gte=start, captured_at__lt=end
        ).exists()
        if had_frames and digest.claim(camera, day, now):
            queued.append(f"{camera.slug} {day}")
            queue = partial(
                async_task, "sequences.tasks.build_day", camera.pk, day.isoformat(), group="digest"
            )
            transaction.on_commit(queue)
    return f"queued {', '.join(queued)}" if queued else "nothing due"
