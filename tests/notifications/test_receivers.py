"""The receivers only queue a task, after the commit, and never raise into capture."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from analytics.kinds import State
from analytics.models import ConditionReading, ForecastSnapshot
from cameras.models import OFFLINE_AFTER_FAILURES
from cameras.signals import health_changed
from notifications import receivers


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(receivers, "async_task", lambda *args, **kw: calls.append(args))
    return calls


def reading(camera, state: State, minutes: int) -> ConditionReading:
    return ConditionReading.objects.create(
        camera=camera,
        measured_at=timezone.now() + dt.timedelta(minutes=minutes),
        state=state,
        published_state=state,
        snow_coverage=0.0,
        wetness=0.0,
        ice_likelihood=0.0,
        brightness=0.5,
        confidence=0.9,
    )


def test_health_changes_queue_a_check_after_the_commit(
    camera, queued, django_capture_on_commit_callbacks
):
    camera.consecutive_failures = OFFLINE_AFTER_FAILURES
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        health_changed.send(sender=type(camera), camera=camera)
    assert queued == []
    for callback in callbacks:
        callback()
    assert queued == [("notifications.tasks.camera_health", camera.pk)]


def test_a_first_failure_queues_nothing(camera, queued, django_capture_on_commit_callbacks):
    camera.consecutive_failures = 1  # degraded: neither offline nor back
    with django_capture_on_commit_callbacks(execute=True):
        health_changed.send(sender=type(camera), camera=camera)
    assert queued == []


def test_a_broker_that_is_down_never_reaches_capture(
    camera, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(receivers, "async_task", down)
    with django_capture_on_commit_callbacks(execute=True):
        health_changed.send(sender=type(camera), camera=camera)  # does not raise
    assert "could not queue notifications.tasks.camera_health" in caplog.text


def test_readings_queue_a_check_only_when_snow_or_ice_begins_or_ends(
    camera, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reading(camera, State.DRY, 0)
        reading(camera, State.WET, 1)
        reading(camera, State.SNOW, 2)  # begins
        reading(camera, State.SNOW, 3)
        reading(camera, State.ICE, 4)  # snow ends, ice begins
        reading(camera, State.DRY, 5)  # ends
    assert queued == [("notifications.tasks.road_state", camera.pk)] * 3


def test_good_forecasts_queue_a_check_and_failed_ones_do_not(
    camera, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ForecastSnapshot.objects.create(
            camera=camera, provider="nws", fetched_at=timezone.now(), error="HTTP 503"
        )
        ForecastSnapshot.objects.create(camera=camera, provider="nws", fetched_at=timezone.now())
    assert queued == [("notifications.tasks.forecast_alerts", camera.pk)]
