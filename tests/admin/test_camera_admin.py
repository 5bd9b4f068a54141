from __future__ import annotations

import pytest

from cameras.models import Camera
from sequences.models import SequenceSettings


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", password="pw-for-tests")
    client.force_login(user)
    return client


def empty_formset(prefix: str, max_forms: int = 1000) -> dict[str, str]:
    """An inline of the camera's page, posted with no rows."""
    counts = {"TOTAL": 0, "INITIAL": 0, "MIN_NUM": 0, "MAX_NUM": max_forms}
    return {f"{prefix}-{name}_FORMS": str(n) for name, n in counts.items()}


def form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Hill Road",
        "slug": "hill-road",
        "enabled": "on",
        "location_name": "Hill Rd at the school",
        "time_zone": "Europe/Oslo",
        "units": "auto",
        "source_kind": "demo",
        "source_settings": "{}",
        "capture_width": "1280",
        "capture_height": "720",
        "update_interval_minutes": "5",
        "frames_per_sequence": "10",
        "sequence_settings-TOTAL_FORMS": "1",
        "sequence_settings-INITIAL_FORMS": "0",
        "sequence_settings-MIN_NUM_FORMS": "0",
        "sequence_settings-MAX_NUM_FORMS": "1",
        "sequence_settings-0-frame_duration": "0.5",
        "sequence_settings-0-optimisation": "aggressive",
        "sequence_settings-0-output_width": "960",
        "sequence_settings-0-output_height": "540",
        "sequence_settings-0-overlay_style": "minimal",
        "sequence_settings-0-condition_wording": "levels",
        "sequence_settings-0-keep_sequences": "24",
        "road_region-TOTAL_FORMS": "0",
        "road_region-INITIAL_FORMS": "0",
        "road_region-MIN_NUM_FORMS": "0",
        "road_region-MAX_NUM_FORMS": "1",
        **empty_formset("privacy_masks"),
        **empty_formset("privacy", max_forms=1),
    }
    data.update(overrides)
    return data


def test_it_adds_a_camera_with_its_sequence_settings(staff_client, db):
    response = staff_client.post("/admin/cameras/camera/add/", form())
    assert response.status_code == 302, response.content.decode()[:2000]
    camera = Camera.objects.get(slug="hill-road")
    opts = SequenceSettings.objects.get(camera=camera)
    chosen = (opts.duration_ms, opts.optimisation, opts.overlay_style)
    assert chosen == (500, "aggressive", "minimal")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("frames_per_sequence", "40", "less than or equal to 30"),
        ("sequence_settings-0-frame_duration", "0.2", "greater than or equal to 0.5"),
        ("sequence_settings-0-frame_duration", "6", "less than or equal to 5.0"),
        ("update_interval_minutes", "7", "Select a valid choice"),
        ("time_zone", "Nowhere/Else", "not a known time zone"),
    ],
)
def test_it_refuses_bad_values_saying_what_is_allowed(staff_client, db, field, value, message):
    response = staff_client.post("/admin/cameras/camera/add/", form(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Camera.objects.exists()


def test_it_requires_a_login(client, db):
    response = client.get("/admin/cameras/camera/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_never_sends_the_stored_password_back_and_keeps_it_when_left_empty(staff_client, db):
    staff_client.post(
        "/admin/cameras/camera/add/",
        form(source_kind="rtsp", source_url="rtsp://10.0.0.9/live", username="op",
             password="never-shown-pw"),
    )  # fmt: skip
    camera = Camera.objects.get(slug="hill-road")
    page = staff_client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    assert "never-shown-pw" not in page
    listing = staff_client.get("/admin/cameras/camera/").content.decode()
    assert "never-shown-pw" not in listing
    assert "rtsp://op:***@10.0.0.9/live" in listing

    edit = form(source_kind="rtsp", source_url="rtsp://10.0.0.9/live", username="op", password="")
    edit.update(
        {"sequence_settings-INITIAL_FORMS": "1", "sequence_settings-0-camera": str(camera.pk)}
    )
    response = staff_client.post(f"/admin/cameras/camera/{camera.pk}/change/", edit)
    assert response.status_code == 302, response.content.decode()[:3000]
    camera.refresh_from_db()
    assert camera.password == "never-shown-pw"


def test_it_shows_the_road_boundary_block_on_the_camera_page(staff_client, camera):
    page = staff_client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    assert f'data-url="/analytics/road-boundaries?camera={camera.slug}"' in page
    assert "analytics/road_boundary.js" in page


def test_it_saves_an_operator_road_polygon_from_the_camera_page(staff_client, camera):
    from analytics.models import RoadRegion

    data = form(name=camera.name, slug=camera.slug)
    data.update(
        {
            "road_region-TOTAL_FORMS": "1",
            "road_region-0-operator_polygon": "[[0.1, 0.9], [0.5, 0.5], [0.9, 0.9]]",
        }
    )
    response = staff_client.post(f"/admin/cameras/camera/{camera.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    region = RoadRegion.objects.get(camera=camera)
    assert region.effective_polygon() == [(0.1, 0.9), (0.5, 0.5), (0.9, 0.9)]
