"""Notification tasks: plain functions taking primary keys, safe to re-run, quiet when the row
is gone. The receivers queue the first three; the schedule runs `check` every minute."""

from __future__ import annotations

import logging

from django.db.models import F
from django.utils import timezone

from cameras.models import Camera
from notifications import conditions, services
from notifications.models import MAX_ATTEMPTS, Delivery, DeliveryStatus
from notifications.senders import SendError, send

log = logging.getLogger(__name__)


def camera_health(camera_id: int) -> str:
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is not None:
        conditions.camera_health(camera)
    return "checked"


def road_state(camera_id: int) -> str:
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is not None:
        conditions.road_state(camera)
    return "checked"


def forecast_alerts(camera_id: int) -> str:
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is not None:
        conditions.forecast_alerts(camera)
    return "checked"


def check() -> str:
    """Every minute: disk and publishing; held and failed deliveries that are due; pruning."""
    now = timezone.now()
    conditions.disk()
    conditions.publishing(now)
    released = services.release_held(now)
    retried = services.retry_due(now)
    services.prune(now)
    return f"{released} released, {retried} queued again"


def deliver(delivery_id: int, retry: bool = True) -> str:
    """Send one delivery; on failure, keep the error and try again later, with backoff, up to
    MAX_ATTEMPTS times (once only without `retry`: the admin's test)."""
    now = timezone.now()
    if not services.claim(delivery_id, now):
        return "not due, or taken"
    delivery = Delivery.objects.select_related("target").get(pk=delivery_id)
    try:
        send(delivery)
    except SendError as exc:
        return record_failure(delivery, str(exc), retry=retry)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT,
        attempts=F("attempts") + 1,
        sent_at=timezone.now(),
        next_attempt_at=None,
        claimed_until=None,
        last_error="",
    )
    return "sent"


def record_failure(delivery: Delivery, error: str, *, retry: bool = True) -> str:
    delivery.attempts += 1
    gave_up = not retry or delivery.attempts >= MAX_ATTEMPTS
    retry_at = None if gave_up else timezone.now() + delivery.retry_delay()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.QUEUED,
        attempts=delivery.attempts,
        next_attempt_at=retry_at,
        claimed_until=None,
        last_error=error[:500],
    )
    log.warning(
        "notification %s to %s failed (attempt %d): %s",
        delivery.pk,
        delivery.target,
        delivery.attempts,
        error,
    )
    return f"failed: {error}" + ("; gave up" if gave_up else f"; next try {retry_at:%H:%M:%S}")
