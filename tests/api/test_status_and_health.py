from __future__ import annotations

from django.utils import timezone

from cameras.models import CaptureClock
from publishing.models import PublishTarget
from tests.api.conftest import SECRETS


def test_it_answers_status_with_the_same_body_as_the_status_page(api, secret_camera):
    api_body = api.get("/api/status").json()
    page_body = api.get("/status").json()
    for body in (api_body, page_body):
        body.pop("generated_at")
    assert api_body == page_body
    assert api_body["cameras"][0]["slug"] == secret_camera.slug


def test_it_keeps_secrets_out_of_status(api, secret_camera):
    for url in ("/api/status", "/status"):
        text = api.get(url).content.decode()
        for secret in SECRETS:
            assert secret not in text, (url, secret)


def test_it_answers_health(api, db):
    CaptureClock.objects.create(pk=1, last_tick_at=timezone.now())
    response = api.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert set(response.json()["checks"]) == {"database", "worker", "disk"}
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
