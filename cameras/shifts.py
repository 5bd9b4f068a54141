"""Capture shifts: run every enabled camera on its exact slots for a claimed span of time.

Each camera gets its own thread, so a slow or hanging camera only delays its own frames.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.db import close_old_connections, connection
from django.utils import timezone

from cameras.capture import capture_frame, fail
from cameras.models import Camera, CaptureClock
from cameras.sources import CaptureError, Source, open_source

log = logging.getLogger(__name__)

SHIFT_LENGTH = dt.timedelta(minutes=2)
# Claim the next shift when the current one ends within this time. Django-Q2 ticks every
# minute, up to 30 s late, so 90 s of look-ahead leaves no gap between shifts.
CLAIM_AHEAD = dt.timedelta(seconds=90)


def claim_shift(now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """Claim the span after the last claimed one, or None if it is already covered.

    The conditional update makes the claim safe when several workers tick at once.
    """
    clock = CaptureClock.get()
    CaptureClock.objects.filter(pk=clock.pk).update(last_tick_at=now)
    covered = clock.covered_until
    if covered is not None and covered > now + CLAIM_AHEAD:
        return None
    start = max(now, covered) if covered else now
    end = start + SHIFT_LENGTH
    claimed = CaptureClock.objects.filter(pk=clock.pk, covered_until=covered).update(
        covered_until=end
    )
    return (start, end) if claimed else None


def sleep_until(moment: dt.datetime) -> None:
    delay = (moment - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(delay)


def run_camera(camera_id: int, start: dt.datetime, end: dt.datetime) -> None:
    """Capture one camera's slots in [start, end) over one open session. After a failure the
    session is reopened, no sooner than the camera's backoff allows."""
    source = None
    retry_at = start
    try:
        camera = Camera.objects.get(pk=camera_id)
        for slot in camera.slots_between(start, end):
            if slot < retry_at:
                continue
            sleep_until(slot)
            if timezone.now() - slot > camera.capture_spacing:
                continue  # a slow grab overran this slot; skip rather than pile up
            camera.refresh_from_db()
            if not camera.enabled:
                return
            if source is None:
                source = open_or_fail(camera)
            if source is not None and capture_frame(camera, source) is not None:
                continue
            if source is not None:
                source.close()
                source = None
            retry_at = timezone.now() + camera.retry_delay()
    except Camera.DoesNotExist:
        return
    finally:
        if source is not None:
            source.close()
        connection.close()


def open_or_fail(camera: Camera) -> Source | None:
    try:
        return open_source(camera)
    except CaptureError as exc:
        fail(camera, str(exc))
        return None


def run_shift(start: dt.datetime, end: dt.datetime) -> int:
    """Run all enabled cameras for the shift; returns how many cameras took part."""
    close_old_connections()
    ids = list(Camera.objects.filter(enabled=True).values_list("pk", flat=True))
    threads = [
        threading.Thread(target=run_camera, args=(pk, start, end), daemon=True, name=f"cam-{pk}")
        for pk in ids
    ]
    for t in threads:
        t.start()
    for t in threads:
        # A thread stuck in a grab past the shift is left to its own timeouts; the next
        # shift's threads run regardless.
        t.join(timeout=max(0.0, (end - timezone.now()).total_seconds()) + 5)
    return len(ids)
