"""How notifications hear of the other apps: receivers that only queue a task, after the
transaction commits (as sequences.signals does), so an unreachable webhook or mail server can
never delay capture, analysis or a build. `health_changed` is sent on a camera's own thread:
its receiver touches neither the database nor the network, and never raises."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django_q.tasks import async_task

from analytics.kinds import State
from analytics.models import ConditionReading, ForecastSnapshot
from cameras.models import OFFLINE_AFTER_FAILURES, Camera
from cameras.signals import health_changed

log = logging.getLogger(__name__)
WINTRY = {State.SNOW, State.ICE}


def later(func: str, *args: Any) -> None:
    def enqueue() -> None:
        try:
            async_task(func, *args, group="notify")
        except Exception:  # a broker that is down must not reach the sender
            log.exception("could not queue %s%r", func, args)

    transaction.on_commit(enqueue)


def on_health_changed(sender: type[Camera], camera: Camera, **kwargs: Any) -> None:
    """Offline, or OK again; not a first failure (degraded), which is neither."""
    try:
        if 0 < camera.consecutive_failures < OFFLINE_AFTER_FAILURES:
            return
        later("notifications.tasks.camera_health", camera.pk)
    except Exception:
        log.exception("notifications: camera %s health change not queued", camera.pk)


def on_reading(sender: type[ConditionReading], instance: ConditionReading, **kwargs: Any) -> None:
    """A published state that moves into or out of snow or ice, against the camera's reading
    before it."""
    if not kwargs.get("created") or kwargs.get("raw"):
        return
    before = (
        ConditionReading.objects.filter(
            camera_id=instance.camera_id, measured_at__lt=instance.measured_at
        )
        .order_by("-measured_at")
        .values_list("published_state", flat=True)
        .first()
    )
    state = instance.published_state
    if state != before and (state in WINTRY or before in WINTRY):
        later("notifications.tasks.road_state", instance.camera_id)


def on_forecast(sender: type[ForecastSnapshot], instance: ForecastSnapshot, **kwargs: Any) -> None:
    """A good forecast: its alerts may have appeared or passed."""
    if kwargs.get("created") and not kwargs.get("raw") and not instance.error:
        later("notifications.tasks.forecast_alerts", instance.camera_id)


def connect() -> None:
    health_changed.connect(on_health_changed, dispatch_uid="notify.health")
    post_save.connect(on_reading, sender=ConditionReading, dispatch_uid="notify.reading")
    post_save.connect(on_forecast, sender=ForecastSnapshot, dispatch_uid="notify.forecast")
