from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from cameras.models import Camera
from tests.factories import live_worker


def test_it_is_healthy_when_a_worker_beat_recently(client, db):
    live_worker()
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "worker", "capture", "disk"}


def test_it_fails_when_no_worker_has_been_seen(client, db):
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "detail": "never seen"}


def test_it_fails_when_the_worker_went_quiet(client, db, settings):
    live_worker()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=16)):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_it_fails_when_a_camera_is_not_captured_for_several_spacings(client, camera):
    spacing = camera.capture_spacing
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    camera.last_frame_at = camera.last_attempt_at = now - 2 * spacing
    camera.save()
    with time_machine.travel(now, tick=False):  # two spacings: within LATE_AFTER_SPACINGS
        live_worker()
        assert client.get("/health").status_code == 200
    with time_machine.travel(now + 2 * spacing, tick=False):
        live_worker()
        response = client.get("/health")
    assert response.status_code == 503
    check = response.json()["checks"]["capture"]
    assert check == {"ok": False, "detail": "not captured for 3 spacings: main-street"}


def test_it_gives_a_camera_nothing_has_tried_yet_three_spacings_from_when_it_was_added(client, db):
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        camera = Camera.objects.create(name="New", slug="new", location_name="New road")
    spacing = camera.capture_spacing
    with time_machine.travel(now + 2 * spacing, tick=False):
        live_worker()
        assert client.get("/health").status_code == 200
    with time_machine.travel(now + 4 * spacing, tick=False):
        live_worker()
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["capture"]["detail"].endswith(": new")


def test_it_fails_when_the_disk_is_nearly_full(client, db, settings):
    live_worker()
    settings.MIN_FREE_DISK_MB = 10**12
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["disk"]["ok"] is False
