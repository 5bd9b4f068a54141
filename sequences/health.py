"""Readiness checks shared by /health and /status: database, worker, disk."""

from __future__ import annotations

import shutil
from typing import TypedDict

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from cameras.models import CaptureClock


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
    """The worker ticks the capture clock every minute; silence means no qcluster is running."""
    try:
        tick = CaptureClock.get().last_tick_at
    except DatabaseError:
        return {"ok": False, "detail": "unknown (database unreachable)"}
    if tick is None:
        return {"ok": False, "detail": "never seen"}
    age = (timezone.now() - tick).total_seconds()
    ok = age <= settings.WORKER_STALE_AFTER_SECONDS
    return {"ok": ok, "detail": f"last seen {age:.0f} s ago"}


def check_disk() -> Check:
    usage = shutil.disk_usage(settings.DATA_DIR)
    free_mb = usage.free // 2**20
    ok = free_mb >= settings.MIN_FREE_DISK_MB
    return {"ok": ok, "detail": f"{free_mb} MB free (minimum {settings.MIN_FREE_DISK_MB} MB)"}


def run_checks() -> dict[str, Check]:
    return {"database": check_database(), "worker": check_worker(), "disk": check_disk()}
