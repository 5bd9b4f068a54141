"""Incidents and deliveries: one beginning per open incident, ends only to those told of the
beginning, the rate limit holding a flapping subject, and the targets' filters."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from cameras.models import Camera
from notifications import services
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Event,
    IncidentKind,
    NotificationTarget,
    Topic,
)

OFFLINE = IncidentKind.CAMERA_OFFLINE
T0 = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)


def offline(camera: Camera) -> None:
    services.begin(OFFLINE, f"camera:{camera.pk}", f"{camera} offline", camera=camera)


def back(camera: Camera) -> None:
    services.end(OFFLINE, f"camera:{camera.pk}", f"{camera} back")


def events(target: NotificationTarget) -> list[tuple[str, str]]:
    rows = Delivery.objects.filter(target=target).order_by("created_at", "pk")
    return [(d.event, d.status) for d in rows]


def test_it_tells_a_beginning_once_while_the_incident_stays_open(camera, mail_target):
    offline(camera)
    offline(camera)
    offline(camera)
    assert events(mail_target) == [(Event.CAMERA_OFFLINE, DeliveryStatus.QUEUED)]


def test_it_tells_the_end_only_to_targets_told_of_the_beginning(camera, mail_target, db):
    offline(camera)
    later = NotificationTarget.objects.create(name="late", channel=Channel.EMAIL, email="l@x.org")
    back(camera)
    assert events(mail_target) == [
        (Event.CAMERA_OFFLINE, DeliveryStatus.QUEUED),
        (Event.CAMERA_BACK, DeliveryStatus.QUEUED),
    ]
    assert events(later) == []


def test_an_end_without_a_beginning_tells_nobody(camera, mail_target):
    back(camera)
    assert events(mail_target) == []


def test_it_holds_a_flapping_camera_and_sends_once_the_interval_has_passed(
    camera, mail_target, settings
):
    settings.NOTIFY_MIN_INTERVAL_MINUTES = 15
    with time_machine.travel(T0, tick=False):
        offline(camera)
        back(camera)
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
        offline(camera)  # again within 15 minutes: held
    assert events(mail_target)[-1] == (Event.CAMERA_OFFLINE, DeliveryStatus.HELD)
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        assert services.release_held(timezone.now()) == 0
    with time_machine.travel(T0 + dt.timedelta(minutes=15), tick=False):
        assert services.release_held(timezone.now()) == 1  # still down: told now
    assert events(mail_target)[-1] == (Event.CAMERA_OFFLINE, DeliveryStatus.QUEUED)


def test_a_flap_that_ends_while_held_is_never_told(camera, mail_target, settings):
    settings.NOTIFY_MIN_INTERVAL_MINUTES = 15
    with time_machine.travel(T0, tick=False):
        offline(camera)
        back(camera)
    for minute in (1, 3, 5):
        with time_machine.travel(T0 + dt.timedelta(minutes=minute), tick=False):
            offline(camera)
            back(camera)
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        assert services.release_held(timezone.now()) == 0
    told = [e for e in events(mail_target) if e[1] != DeliveryStatus.DROPPED]
    assert told == [
        (Event.CAMERA_OFFLINE, DeliveryStatus.QUEUED),
        (Event.CAMERA_BACK, DeliveryStatus.QUEUED),
    ]


def test_it_sends_only_the_topics_a_target_chose(camera, mail_target):
    mail_target.topics = [Topic.ROAD]
    mail_target.save()
    offline(camera)
    assert events(mail_target) == []
    services.begin(IncidentKind.ROAD_SNOW, f"camera:{camera.pk}:snow", "snow", camera=camera)
    assert events(mail_target) == [(Event.ROAD_STARTED, DeliveryStatus.QUEUED)]


def test_it_sends_only_the_cameras_a_target_chose(camera, mail_target):
    other = Camera.objects.create(name="Other", slug="other", location_name="Elsewhere")
    mail_target.cameras.set([other])
    offline(camera)
    assert events(mail_target) == []
    offline(other)
    assert events(mail_target) == [(Event.CAMERA_OFFLINE, DeliveryStatus.QUEUED)]


def test_a_disabled_target_is_sent_nothing(camera, mail_target):
    mail_target.enabled = False
    mail_target.save()
    offline(camera)
    assert events(mail_target) == []


def test_it_queues_each_delivery_as_a_task_after_the_commit(
    camera, mail_target, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(services, "async_task", lambda *a, **k: queued.append(a))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        offline(camera)
    assert queued == []
    for callback in callbacks:
        callback()
    [delivery] = Delivery.objects.all()
    assert queued == [("notifications.tasks.deliver", delivery.pk)]
