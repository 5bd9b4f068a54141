"""Incidents and their deliveries: who is told what, and when.

`begin` opens an incident unless one of its kind is open for the subject (the database allows
one), and queues a delivery to each target that wants its topic and camera. Per target, event
and subject, a second beginning within NOTIFY_MIN_INTERVAL_MINUTES is *held* instead of sent:
a flapping camera is told once, and once more only if it is still down when the interval has
passed (`release_held`). `end` closes the incident and tells only the targets that were told of
its beginning; a beginning still held is dropped, so the flap is never told at all.

Deliveries go out as tasks (`notifications.tasks.deliver`) queued after the transaction
commits; a failure is retried with backoff by the minutely check (`retry_due`).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from cameras.models import Camera
from notifications.models import (
    Delivery,
    DeliveryStatus,
    Event,
    Incident,
    IncidentKind,
    NotificationTarget,
    Topic,
)

log = logging.getLogger(__name__)
# A delivery being sent is left alone this long by other workers (several send timeouts).
CLAIM_SECONDS = 120
DELIVER = "notifications.tasks.deliver"
# A first delivery still unsent after this long has lost its task (a broker that was down).
LOST_AFTER = dt.timedelta(minutes=5)
# Closed incidents and old deliveries are kept this long for the admin, then deleted.
KEEP = dt.timedelta(days=30)


@dataclass(frozen=True)
class Meaning:
    topic: Topic
    started: Event
    ended: Event | None


MEANINGS = {
    IncidentKind.CAMERA_OFFLINE: Meaning(Topic.CAMERA, Event.CAMERA_OFFLINE, Event.CAMERA_BACK),
    IncidentKind.ROAD_SNOW: Meaning(Topic.ROAD, Event.ROAD_STARTED, Event.ROAD_ENDED),
    IncidentKind.ROAD_ICE: Meaning(Topic.ROAD, Event.ROAD_STARTED, Event.ROAD_ENDED),
    # A forecast alert that passes is not news; the next one that appears is.
    IncidentKind.FORECAST_SNOW: Meaning(Topic.FORECAST, Event.FORECAST_ALERT, None),
    IncidentKind.FORECAST_ICE: Meaning(Topic.FORECAST, Event.FORECAST_ALERT, None),
    IncidentKind.PUBLISH_FAILING: Meaning(
        Topic.PUBLISHING, Event.PUBLISH_FAILING, Event.PUBLISH_RECOVERED
    ),
    IncidentKind.DISK_LOW: Meaning(Topic.DISK, Event.DISK_LOW, Event.DISK_OK),
}


class CameraRef(TypedDict):
    slug: str
    name: str


class Payload(TypedDict):
    """The JSON body of a webhook (plus `delivery`, its id, added when sent); e-mail says the
    same in words."""

    event: str
    summary: str
    occurred_at: str
    camera: CameraRef | None
    incident: int | None
    details: dict[str, Any]


def payload(
    event: Event,
    summary: str,
    *,
    camera: Camera | None = None,
    incident: Incident | None = None,
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Payload:
    return Payload(
        event=event.value,
        summary=summary,
        occurred_at=(at or timezone.now()).isoformat(),
        camera=CameraRef(slug=camera.slug, name=camera.name) if camera else None,
        incident=incident.pk if incident else None,
        details=details or {},
    )


def begin(
    kind: IncidentKind,
    subject: str,
    summary: str,
    *,
    camera: Camera | None = None,
    details: dict[str, Any] | None = None,
) -> Incident | None:
    """Open the incident and tell the targets; None when it was open already."""
    if Incident.objects.filter(kind=kind, subject=subject, closed_at__isnull=True).exists():
        return None
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                kind=kind, subject=subject, camera=camera, details=details or {}
            )
    except IntegrityError:  # another worker opened it a moment ago
        return None
    meaning = MEANINGS[kind]
    body = payload(meaning.started, summary, camera=camera, incident=incident, details=details)
    now = incident.opened_at
    window = dt.timedelta(minutes=settings.NOTIFY_MIN_INTERVAL_MINUTES)
    created = []
    for target in targets_for(meaning.topic, camera):
        last = (
            Delivery.objects.filter(target=target, event=meaning.started, subject=subject)
            .exclude(status=DeliveryStatus.DROPPED)
            .order_by("-created_at")
            .first()
        )
        held = last is not None and last.created_at > now - window
        created.append(
            Delivery.objects.create(
                target=target,
                incident=incident,
                event=meaning.started,
                subject=subject,
                payload=body,
                status=DeliveryStatus.HELD if held else DeliveryStatus.QUEUED,
                created_at=now,
                next_attempt_at=last.created_at + window if held and last else now,
            )
        )
    queue([d for d in created if d.status == DeliveryStatus.QUEUED])
    log.info("%s (%s): %s; %d target(s)", kind, subject, summary, len(created))
    return incident


def end(
    kind: IncidentKind, subject: str, summary: str, *, details: dict[str, Any] | None = None
) -> Incident | None:
    """Close the open incident and tell the targets told of its beginning; None when none
    was open."""
    incident = (
        Incident.objects.select_related("camera")
        .filter(kind=kind, subject=subject, closed_at__isnull=True)
        .first()
    )
    if incident is None:
        return None
    now = timezone.now()
    if not Incident.objects.filter(pk=incident.pk, closed_at__isnull=True).update(closed_at=now):
        return None  # another worker closed it
    incident.closed_at = now
    meaning = MEANINGS[kind]
    starts = Delivery.objects.filter(incident=incident, event=meaning.started)
    starts.filter(status=DeliveryStatus.HELD).update(
        status=DeliveryStatus.DROPPED, next_attempt_at=None
    )
    if meaning.ended is None:
        return incident
    told = starts.exclude(status=DeliveryStatus.DROPPED).select_related("target")
    body = payload(
        meaning.ended, summary, camera=incident.camera, incident=incident, details=details, at=now
    )
    created = [
        Delivery.objects.create(
            target=start.target,
            incident=incident,
            event=meaning.ended,
            subject=subject,
            payload=body,
            created_at=now,
            next_attempt_at=now,
        )
        for start in told
    ]
    queue(created)
    log.info("%s (%s) ended: %s; %d target(s)", kind, subject, summary, len(created))
    return incident


def targets_for(topic: Topic, camera: Camera | None) -> list[NotificationTarget]:
    """Enabled targets that want the topic and, for a camera's event, that camera."""
    wanted = []
    for target in NotificationTarget.objects.filter(enabled=True).prefetch_related("cameras"):
        if topic not in target.topics:
            continue
        chosen = {c.pk for c in target.cameras.all()}
        if camera is not None and chosen and camera.pk not in chosen:
            continue
        wanted.append(target)
    return wanted


def test_delivery(target: NotificationTarget) -> Delivery:
    """A test message to one target, whatever its topics, for the admin's test action."""
    body = payload(
        Event.TEST,
        f"Test notification from imgserv to “{target.name}”",
        details={"note": "Sent from the admin to check this target."},
    )
    return Delivery.objects.create(
        target=target, event=Event.TEST, payload=body, next_attempt_at=timezone.now()
    )


def queue(deliveries: list[Delivery]) -> None:
    """Send each as its own task once the rows are committed; a lost task is made good by
    `retry_due`."""
    for delivery in deliveries:
        send = functools.partial(async_task, DELIVER, delivery.pk, group="notify")
        transaction.on_commit(send)


def unclaimed(now: dt.datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def claim(delivery_id: int, now: dt.datetime) -> bool:
    """Take a queued, due delivery for sending, so two workers never send it twice."""
    rows = Delivery.objects.filter(
        unclaimed(now),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=delivery_id,
        status=DeliveryStatus.QUEUED,
    )
    return rows.update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS)) == 1


def release_held(now: dt.datetime) -> int:
    """Held beginnings whose interval has passed: sent if their incident is still open."""
    due = Delivery.objects.filter(status=DeliveryStatus.HELD, next_attempt_at__lte=now)
    due.filter(Q(incident__isnull=True) | Q(incident__closed_at__isnull=False)).update(
        status=DeliveryStatus.DROPPED, next_attempt_at=None
    )
    released = list(due.filter(incident__closed_at__isnull=True))
    Delivery.objects.filter(pk__in=[d.pk for d in released]).update(
        status=DeliveryStatus.QUEUED, next_attempt_at=now
    )
    queue(released)
    return len(released)


def retry_due(now: dt.datetime) -> int:
    """Queued deliveries whose backoff has passed, or whose first task was lost (a fresh one
    is left to the task already queued for it)."""
    retried_or_lost = Q(attempts__gt=0) | Q(created_at__lt=now - LOST_AFTER)
    due = list(
        Delivery.objects.filter(
            unclaimed(now), retried_or_lost, status=DeliveryStatus.QUEUED, next_attempt_at__lte=now
        )
    )
    queue(due)
    return len(due)


def prune(now: dt.datetime) -> None:
    Delivery.objects.filter(created_at__lt=now - KEEP).exclude(
        status__in=[DeliveryStatus.QUEUED, DeliveryStatus.HELD]
    ).delete()
    Incident.objects.filter(closed_at__lt=now - KEEP).delete()
