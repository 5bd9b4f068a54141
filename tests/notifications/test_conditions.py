"""What begins and ends each kind of incident, read from the other apps' rows."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import namedtuple

import time_machine
from django.utils import timezone

from analytics.kinds import Level, State
from analytics.models import ConditionReading, ForecastSnapshot
from cameras.models import Health
from notifications import conditions
from notifications.models import Delivery, Event, Incident, IncidentKind
from publishing.models import Outcome, PublishRun, PublishTarget, TargetKind


def said(kind: Event | None = None) -> list[str]:
    rows = Delivery.objects.order_by("created_at", "pk")
    return [d.payload["summary"] for d in rows if kind is None or d.event == kind]


def reading(camera, state: State, minutes: int, level: str = "") -> ConditionReading:
    return ConditionReading.objects.create(
        camera=camera,
        measured_at=timezone.now() + dt.timedelta(minutes=minutes),
        state=state,
        published_state=state,
        published_level=level,
        snow_coverage=0.5,
        wetness=0.1,
        ice_likelihood=0.1,
        brightness=0.5,
        confidence=0.8,
    )


def test_an_offline_camera_begins_and_an_ok_one_ends(camera, mail_target):
    camera.health, camera.last_error = Health.OFFLINE, "Host unreachable."
    conditions.camera_health(camera)
    camera.health = Health.DEGRADED  # neither
    conditions.camera_health(camera)
    camera.health = Health.OK
    conditions.camera_health(camera)
    assert said() == ["Camera Main Street is offline", "Camera Main Street is back"]
    first = Delivery.objects.order_by("pk").first()
    assert first is not None and first.payload["details"]["error"] == "Host unreachable."


def test_snow_turning_to_ice_and_then_dry_begins_and_ends_each(camera, mail_target):
    reading(camera, State.WET, 0)
    conditions.road_state(camera)
    reading(camera, State.SNOW, 1, Level.MODERATE)
    conditions.road_state(camera)
    conditions.road_state(camera)  # run twice: nothing more
    reading(camera, State.ICE, 2, Level.ICE_POSSIBLE)
    conditions.road_state(camera)
    reading(camera, State.DRY, 3)
    conditions.road_state(camera)
    assert said() == [
        "Moderate snow on the road at Main Street",
        "Snow on the road at Main Street has ended: now Ice possible",
        "Ice possible on the road at Main Street",
        "Ice possible on the road at Main Street has ended: now Dry",
    ]


def snapshot(camera, alerts, error: str = "") -> ForecastSnapshot:
    return ForecastSnapshot.objects.create(
        camera=camera, provider="nws", fetched_at=timezone.now(), alerts=alerts, error=error
    )


def test_a_forecast_alert_is_told_when_it_appears_not_while_it_stays(camera, mail_target, settings):
    settings.NOTIFY_MIN_INTERVAL_MINUTES = 0  # the rate limit has its own tests
    snow = {"kind": "snow", "text": "Snow 2–4 cm from Tue 03:00", "starts_at": "x"}
    snapshot(camera, [snow])
    conditions.forecast_alerts(camera)
    snapshot(camera, [{**snow, "text": "Snow 3–5 cm from Tue 03:00"}])
    conditions.forecast_alerts(camera)
    snapshot(camera, [], error="nws answered HTTP 503")  # a failed fetch changes nothing
    conditions.forecast_alerts(camera)
    assert said() == ["Snow 2–4 cm from Tue 03:00 at Main Street"]
    snapshot(camera, [])
    conditions.forecast_alerts(camera)  # passed, unannounced
    snapshot(camera, [{"kind": "ice", "text": "Ice possible Wed 01:00–04:00"}, snow])
    conditions.forecast_alerts(camera)
    assert said()[1:] == [
        "Snow 2–4 cm from Tue 03:00 at Main Street",
        "Ice possible Wed 01:00–04:00 at Main Street",
    ]


def test_publishing_is_told_after_failing_for_the_set_minutes_and_when_it_works(
    db, mail_target, settings, tmp_path
):
    settings.NOTIFY_PUBLISH_FAILING_MINUTES = 30
    start = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
    target = PublishTarget.objects.create(
        name="vps", kind=TargetKind.DIRECTORY, remote_path=str(tmp_path)
    )
    PublishRun.objects.create(target=target, started_at=start, outcome=Outcome.FAILED)
    PublishTarget.objects.filter(pk=target.pk).update(
        consecutive_failures=3, last_error="vps could not be reached"
    )
    conditions.publishing(start + dt.timedelta(minutes=29))
    assert said() == []
    conditions.publishing(start + dt.timedelta(minutes=31))
    conditions.publishing(start + dt.timedelta(minutes=40))
    assert said() == ["Publishing to vps has failed for 31 min: vps could not be reached"]
    PublishTarget.objects.filter(pk=target.pk).update(consecutive_failures=0, last_error="")
    conditions.publishing(start + dt.timedelta(minutes=45))
    assert said()[1:] == ["Publishing to vps works again"]


Usage = namedtuple("Usage", "total used free")


def test_low_disk_begins_below_the_limit_and_ends_a_margin_above_it(
    db, mail_target, settings, monkeypatch
):
    settings.MIN_FREE_DISK_MB = 200
    free = {"mb": 150}
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10**12, 0, free["mb"] * 2**20))
    conditions.disk()
    free["mb"] = 210  # above the limit, within the margin: still low
    conditions.disk()
    free["mb"] = 230
    conditions.disk()
    assert said() == [
        "Disk space low: 150 MB free (minimum 200 MB)",
        "Disk space enough again: 230 MB free",
    ]


def test_only_one_incident_of_a_kind_is_open_per_subject(camera, mail_target):
    with time_machine.travel(timezone.now(), tick=True):
        camera.health = Health.OFFLINE
        conditions.camera_health(camera)
        conditions.camera_health(camera)
    assert Incident.objects.filter(kind=IncidentKind.CAMERA_OFFLINE).count() == 1
