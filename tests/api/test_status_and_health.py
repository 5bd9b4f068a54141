from __future__ import annotations

import datetime as dt

from django.utils import timezone

from analytics.kinds import Level, State
from analytics.models import ConditionReading
from publishing.models import PublishTarget
from tests.api.conftest import SECRETS
from tests.factories import live_worker


def test_it_answers_status_with_the_same_body_as_the_status_page(api, secret_camera):
    api_body = api.get("/api/status").json()
    page_body = api.get("/status").json()
    for body in (api_body, page_body):
        body.pop("generated_at")
    assert api_body == page_body
    assert api_body["cameras"][0]["slug"] == secret_camera.slug


def test_it_answers_an_unknown_road_state_with_its_reason(api, camera):
    why = "picture and weather disagree: looks like snow, but too warm"
    ConditionReading.objects.create(
        camera=camera, measured_at=timezone.now() - dt.timedelta(minutes=3),
        state=State.SNOW, level=Level.MODERATE, reason="snow on the road",
        published_state=State.UNKNOWN, published_level="", published_reason=why,
        snow_coverage=0.4, wetness=0.1, ice_likelihood=0.0, brightness=0.5, confidence=0.7,
    )  # fmt: skip
    [entry] = api.get("/api/status").json()["cameras"]
    conditions = entry["conditions"]
    assert (conditions["state"], conditions["style"]) == ("unknown", "unknown")
    assert (conditions["label"], conditions["level"]) == (None, None)
    assert conditions["reason"] == why


def test_it_keeps_secrets_out_of_status(api, secret_camera):
    for url in ("/api/status", "/status"):
        text = api.get(url).content.decode()
        for secret in SECRETS:
            assert secret not in text, (url, secret)


def test_it_answers_health(api, db):
    live_worker()
    response = api.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert set(response.json()["checks"]) == {"database", "worker", "capture", "disk"}
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_503_when_no_worker_was_seen(api, db):
    response = api.get("/api/health")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_it_shows_publish_state_without_hosts(api, db, tmp_path):
    PublishTarget.objects.create(
        name="vps", kind="rsync", host="bundle.example.org", port=2222, user="pubuser",
        remote_path="/srv/public/road", identity_file=str(tmp_path / "key"),
    )  # fmt: skip
    response = api.get("/api/publishing")
    assert response.status_code == 200
    [target] = response.json()
    assert target["name"] == "vps"
    for detail in ("bundle.example.org", "pubuser", "/srv/public/road"):
        assert detail not in response.content.decode()
