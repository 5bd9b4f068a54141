"""Readiness checks shared by /health and /status: database, worker, capture, disk."""

from __future__ import annotations

import datetime as dt
import shutil
from typing import TypedDict

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from cameras.models import LATE_AFTER_SPACINGS, Camera, CaptureNode


class Check(TypedDict):
    ok: bool
    detail: str


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"ok": False, "detail": f"database unreachable: {type(exc).__name__}"}
    return {"ok": True, "detail": "reachable"}


def check_worker() -> Check:
    """Each worker's capture service beats every second; silence means none is running."""
    try:
        newest = CaptureNode.objects.order_by("-heartbeat_at").first()
        now = timezone.now()
        live = CaptureNode.objects.filter(
            heartbeat_at__gte=now - dt.timedelta(seconds=settings.WORKER_STALE_AFTER_SECONDS)
        ).count()
    except DatabaseError:
        return {"ok": False, "detail": "unknown (database unreachable)"}
    if newest is None:
        return {"ok": False, "detail": "never seen"}
    age = (now - newest.heartbeat_at).total_seconds()
    nodes = f"{live} worker{'s' * (live != 1)}"
    return {"ok": live > 0, "detail": f"{nodes} running, last seen {age:.0f} s ago"}


def late_cameras(now: dt.datetime | None = None) -> list[Camera]:
    """Enabled cameras with neither a frame nor an attempt for several spacings (counted from
    when the camera was added, for one nothing has tried yet)."""
    now = now or timezone.now()
    return [camera for camera in Camera.objects.filter(enabled=True) if camera.is_late(now)]


def check_capture() -> Check:
    try:
        late = late_cameras()
    except DatabaseError:
        return {"ok": False, "detail": "unknown (database unreachable)"}
    if late:
        names = ", ".join(c.slug for c in late[:5])
        return {"ok": False, "detail": f"not captured for {LATE_AFTER_SPACINGS} spacings: {names}"}
    return {"ok": True, "detail": "every enabled camera on its slots"}


def check_disk() -> Check:
    usage = shutil.disk_usage(settings.DATA_DIR)
    free_mb = usage.free // 2**20
    ok = free_mb >= settings.MIN_FREE_DISK_MB
    return {"ok": ok, "detail": f"{free_mb} MB free (minimum {settings.MIN_FREE_DISK_MB} MB)"}


def run_checks() -> dict[str, Check]:
    return {
        "database": check_database(),
        "worker": check_worker(),
        "capture": check_capture(),
        "disk": check_disk(),
    }
