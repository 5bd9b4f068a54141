from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from cameras.models import CaptureClock


def test_it_is_healthy_when_a_worker_ticked_recently(client, db):
    CaptureClock.objects.create(pk=1, last_tick_at=timezone.now())
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "worker", "disk"}


def test_it_fails_when_no_worker_has_been_seen(client, db):
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "detail": "never seen"}


def test_it_fails_when_the_worker_went_quiet(client, db):
    CaptureClock.objects.create(pk=1, last_tick_at=timezone.now())
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_it_fails_when_the_disk_is_nearly_full(client, db, settings):
    CaptureClock.objects.create(pk=1, last_tick_at=timezone.now())
    settings.MIN_FREE_DISK_MB = 10**12
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["disk"]["ok"] is False
