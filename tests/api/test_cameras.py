from __future__ import annotations

from tests.api.conftest import SECRETS

PUBLIC = {
    "name",
    "slug",
    "location_name",
    "time_zone",
    "latitude",
    "longitude",
    "enabled",
    "health",
    "last_frame_at",
    "update_interval_minutes",
    "frames_per_sequence",
    "units",
    "display_units",
    "latest_sequence",
}


def test_it_lists_cameras_with_public_fields_only(api, secret_camera):
    response = api.get("/api/cameras/")
    assert response.status_code == 200
    [entry] = response.json()
    assert set(entry) == PUBLIC
    assert entry["slug"] == "main-street"
    assert entry["location_name"] == "Main St at 5th Ave"
    for secret in (*SECRETS, "password", "username"):
        assert secret not in response.content.decode()


def test_it_shows_one_camera_without_its_source(api, secret_camera):
    response = api.get(f"/api/cameras/{secret_camera.slug}/")
    assert response.status_code == 200
    assert set(response.json()) == PUBLIC
    for secret in (*SECRETS, "password"):
        assert secret not in response.content.decode()


def test_it_links_the_latest_sequence_formats(api, camera, built):
    entry = api.get(f"/api/cameras/{camera.slug}/").json()
    latest = entry["latest_sequence"]
    assert latest["id"] == built.pk
    assert latest["url"] == f"/sequence/{camera.slug}/latest"
    assert latest["urls"]["gif"] == f"/sequence/{camera.slug}/latest.gif"
    assert set(latest["urls"]) <= {"gif", "mp4", "webp"}


def test_it_answers_404_for_an_unknown_camera(api, db):
    assert api.get("/api/cameras/nope/").status_code == 404
