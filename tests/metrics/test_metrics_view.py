"""/metrics: who may read it, and what it says about the site at the moment of the scrape."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from analytics.kinds import State
from analytics.models import ConditionReading
from cameras.models import Camera, CaptureNode, Health
from publishing.models import PublishTarget, TargetKind
from tests.metrics.scrape import value

OUTSIDE = "203.0.113.9"


def scrape(client, **extra) -> str:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


@pytest.mark.django_db
def test_it_answers_the_allowed_addresses_and_refuses_others(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "10.0.0.0/8"]
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.1.2.3").status_code == 200
    refused = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert refused.status_code == 403
    assert b"imgserv_" not in refused.content


@pytest.mark.django_db
def test_behind_a_proxy_the_address_counts_only_when_the_proxy_is_trusted(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "10.0.0.0/8"]
    relayed = {"HTTP_X_FORWARDED_FOR": OUTSIDE}  # nginx on this host, a visitor from outside
    settings.TRUSTED_PROXY = False
    assert client.get("/metrics", **relayed).status_code == 403
    settings.TRUSTED_PROXY = True
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert client.get("/metrics", **relayed).status_code == 403
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.4.5.6").status_code == 200


@pytest.mark.django_db
def test_a_bearer_token_opens_it_from_anywhere(client, settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "scrape-token-123"
    assert client.get("/metrics").status_code == 403
    wrong = {"HTTP_AUTHORIZATION": "Bearer scrape-token-12"}
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, **wrong).status_code == 403
    right = {"HTTP_AUTHORIZATION": "Bearer scrape-token-123"}
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, **right).status_code == 200
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR=OUTSIDE, **right).status_code == 200


@pytest.mark.django_db
def test_an_empty_token_opens_nothing(client, settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_it_refuses_writes(client, db):
    assert client.post("/metrics").status_code == 405


def test_it_reports_road_state_health_and_rejected_frames_per_camera(client, camera):
    Camera.objects.filter(pk=camera.pk).update(health=Health.OFFLINE, rejected_frames=4)
    for minutes, state in ((0, State.WET), (1, State.SNOW)):
        ConditionReading.objects.create(
            camera=camera,
            measured_at=timezone.now() + dt.timedelta(minutes=minutes),
            state=state,
            published_state=state,
            snow_coverage=0.5,
            wetness=0.1,
            ice_likelihood=0.0,
            brightness=0.5,
            confidence=0.9,
        )
    Camera.objects.create(name="New", slug="new", location_name="x")  # no reading yet
    text = scrape(client)
    assert value(text, "imgserv_road_state", camera="main-street", state="snow") == 1
    assert value(text, "imgserv_road_state", camera="main-street", state="wet") == 0
    assert value(text, "imgserv_road_state", camera="new", state="unknown") == 1
    assert value(text, "imgserv_camera_health", camera="main-street", health="offline") == 1
    assert value(text, "imgserv_camera_health", camera="main-street", health="ok") == 0
    assert value(text, "imgserv_frames_rejected_total", camera="main-street") == 4


def test_it_reports_worker_heartbeats_publish_lag_and_free_disk(client, db, tmp_path):
    beat = timezone.now() - dt.timedelta(seconds=3)
    CaptureNode.objects.create(name="box:42", started_at=beat, heartbeat_at=beat, cameras=2)
    target = PublishTarget.objects.create(
        name="vps", kind=TargetKind.DIRECTORY, remote_path=str(tmp_path)
    )
    PublishTarget.objects.filter(pk=target.pk).update(
        requested_at=timezone.now() - dt.timedelta(seconds=90)
    )
    text = scrape(client)
    assert value(text, "imgserv_worker_last_seen_timestamp_seconds", node="box:42") == (
        pytest.approx(beat.timestamp())
    )
    assert value(text, "imgserv_worker_cameras", node="box:42") == 2
    lag = value(text, "imgserv_publish_lag_seconds", target="vps")
    assert lag is not None and 90 <= lag < 120
    free = value(text, "imgserv_disk_free_bytes", folder="data")
    assert free is not None and free > 0
