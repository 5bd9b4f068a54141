"""What each condition is, read from the rows the other apps keep, and whether it has begun or
ended. Each function looks at the present state, not at the message that woke it, so running it
twice, late or out of order tells nothing twice and ends where the rows are."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from analytics.kinds import State, state_label
from analytics.models import ConditionReading, ForecastSnapshot
from cameras.models import Camera, Health
from notifications import services
from notifications.models import Incident, IncidentKind
from publishing.models import Outcome, PublishRun, PublishTarget

ROAD_KINDS = {State.SNOW: IncidentKind.ROAD_SNOW, State.ICE: IncidentKind.ROAD_ICE}
FORECAST_KINDS = {"snow": IncidentKind.FORECAST_SNOW, "ice": IncidentKind.FORECAST_ICE}


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def camera_health(camera: Camera) -> None:
    """Offline begins when the camera is offline; it ends when it is OK again (a degraded
    camera, failing but not yet offline, neither begins nor ends it)."""
    subject = f"camera:{camera.pk}"
    if camera.health == Health.OFFLINE:
        services.begin(
            IncidentKind.CAMERA_OFFLINE,
            subject,
            f"Camera {camera.name} is offline",
            camera=camera,
            details={
                "error": camera.last_error,
                "failures": camera.consecutive_failures,
                "last_frame_at": iso(camera.last_frame_at),
            },
        )
    elif camera.health == Health.OK:
        incident = open_incident(IncidentKind.CAMERA_OFFLINE, subject)
        down = _minutes_since(incident.opened_at) if incident else 0
        services.end(
            IncidentKind.CAMERA_OFFLINE,
            subject,
            f"Camera {camera.name} is back",
            details={"last_frame_at": iso(camera.last_frame_at), "offline_minutes": down},
        )


def road_state(camera: Camera) -> None:
    """Snow or ice as the camera's newest reading published it, against what is open."""
    reading = ConditionReading.objects.filter(camera=camera).first()
    if reading is None:
        return
    now_state = reading.published_state
    now_label = state_label(now_state, reading.published_level)
    details: dict[str, Any] = {
        "state": now_state,
        "level": reading.published_level,
        "label": now_label,
        "reason": reading.published_reason,
        "measured_at": iso(reading.measured_at),
    }
    # Ends first: snow turning to ice is "snow ended", then "ice began".
    for state, kind in ROAD_KINDS.items():
        if now_state != state:
            services.end(
                kind,
                f"camera:{camera.pk}:{state}",
                f"{State(state).label} on the road at {camera.name} has ended: now {now_label}",
                details=details,
            )
    kind_now = ROAD_KINDS.get(State(now_state))
    if kind_now is not None:
        services.begin(
            kind_now,
            f"camera:{camera.pk}:{now_state}",
            f"{now_label} on the road at {camera.name}",
            camera=camera,
            details=details,
        )


def forecast_alerts(camera: Camera) -> None:
    """Each kind of alert (snow, ice) in the newest good forecast begins when it appears and
    ends, unannounced, when a forecast no longer has it; a failed fetch changes nothing."""
    snapshot = ForecastSnapshot.objects.filter(camera=camera, error="").first()
    if snapshot is None:
        return
    alerts = {a.get("kind"): a for a in snapshot.alerts if isinstance(a, dict)}
    for name, kind in FORECAST_KINDS.items():
        subject = f"camera:{camera.pk}:{name}"
        alert = alerts.get(name)
        if alert is None:
            services.end(kind, subject, "")
            continue
        services.begin(
            kind,
            subject,
            f"{alert.get('text', name.capitalize())} at {camera.name}",
            camera=camera,
            details={**alert, "provider": snapshot.provider},
        )


def publishing(now: dt.datetime) -> None:
    """A target failing for NOTIFY_PUBLISH_FAILING_MINUTES begins; its next success ends it."""
    limit = dt.timedelta(minutes=settings.NOTIFY_PUBLISH_FAILING_MINUTES)
    for target in PublishTarget.objects.all():
        subject = f"target:{target.pk}"
        if target.consecutive_failures == 0 or not target.enabled:
            services.end(
                IncidentKind.PUBLISH_FAILING,
                subject,
                f"Publishing to {target.name} works again",
                details={"target": target.name, "last_success_at": iso(target.last_success_at)},
            )
            continue
        since = failing_since(target)
        if since is None or now - since < limit:
            continue
        services.begin(
            IncidentKind.PUBLISH_FAILING,
            subject,
            f"Publishing to {target.name} has failed for {_minutes_since(since, now)} min: "
            f"{target.last_error}",
            details={
                "target": target.name,
                "error": target.last_error,
                "failing_since": iso(since),
                "failures": target.consecutive_failures,
                "last_success_at": iso(target.last_success_at),
            },
        )


def failing_since(target: PublishTarget) -> dt.datetime | None:
    """When the first failed run after the last success started."""
    runs = PublishRun.objects.filter(target=target, outcome=Outcome.FAILED)
    if target.last_success_at is not None:
        runs = runs.filter(started_at__gt=target.last_success_at)
    first = runs.order_by("started_at").first()
    return first.started_at if first else None


def disk() -> None:
    """Below MIN_FREE_DISK_MB (the /health limit) in the data folder or the media folder begins;
    a tenth above it ends, so free space hovering at the limit does not begin and end every
    minute."""
    free_mb = min(free_megabytes(folder) for folder in (settings.DATA_DIR, settings.MEDIA_ROOT))
    low = settings.MIN_FREE_DISK_MB
    details = {"free_mb": free_mb, "minimum_mb": low}
    if free_mb < low:
        services.begin(
            IncidentKind.DISK_LOW,
            "disk",
            f"Disk space low: {free_mb} MB free (minimum {low} MB)",
            details=details,
        )
    elif free_mb >= low + max(10, low // 10):
        services.end(
            IncidentKind.DISK_LOW,
            "disk",
            f"Disk space enough again: {free_mb} MB free",
            details=details,
        )


def free_megabytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free // 2**20
    except FileNotFoundError:  # no media folder before the first frame
        return shutil.disk_usage(settings.DATA_DIR).free // 2**20


def open_incident(kind: IncidentKind, subject: str) -> Incident | None:
    return Incident.objects.filter(kind=kind, subject=subject, closed_at__isnull=True).first()


def _minutes_since(start: dt.datetime, now: dt.datetime | None = None) -> int:
    return int(((now or timezone.now()) - start).total_seconds() // 60)
