"""PATCH /api/cameras/<slug>/: staff only (token or session with CSRF), validated by field."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from cameras.models import Camera

URL = "/api/cameras/main-street/"


def test_it_refuses_an_anonymous_write_with_401(api, camera):
    response = api.patch(URL, {"enabled": False}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert Camera.objects.get().enabled is True


def test_it_refuses_a_write_by_a_user_who_is_not_staff(user_api, camera):
    assert user_api.patch(URL, {"enabled": False}, format="json").status_code == 403
    assert Camera.objects.get().enabled is True


def test_it_refuses_a_bad_token(api, camera):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.patch(URL, {"enabled": False}, format="json").status_code == 401


def test_it_lets_staff_change_a_camera_by_token(staff_api, camera):
    change = {
        "enabled": False,
        "location_name": "Main St at 6th Ave",
        "update_interval_minutes": 10,
        "frames_per_sequence": 12,
    }
    response = staff_api.patch(URL, change, format="json")
    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in change} == change
    stored = Camera.objects.get()
    assert (stored.enabled, stored.location_name) == (False, "Main St at 6th Ave")
    assert (stored.update_interval_minutes, stored.frames_per_sequence) == (10, 12)


def test_it_names_the_field_of_a_bad_value(staff_api, camera):
    response = staff_api.patch(URL, {"frames_per_sequence": 99}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"frames_per_sequence"}
    response = staff_api.patch(URL, {"update_interval_minutes": 7}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"update_interval_minutes"}
    assert Camera.objects.get().frames_per_sequence == 5


def test_it_refuses_fields_the_api_may_not_change(staff_api, camera):
    response = staff_api.patch(URL, {"password": "x", "enabled": False}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()
    assert Camera.objects.get().enabled is True


def test_it_refuses_an_empty_location(staff_api, camera):
    response = staff_api.patch(URL, {"location_name": ""}, format="json")
    assert response.status_code == 400
    assert "location_name" in response.json()


def test_it_answers_the_models_own_validation_error_by_field(staff_api, camera, monkeypatch):
    def clean(self):
        if not self.enabled:
            raise ValidationError({"enabled": "This camera must stay on."})

    monkeypatch.setattr(Camera, "clean", clean)
    response = staff_api.patch(URL, {"enabled": False}, format="json")
    assert response.status_code == 400
    assert response.json() == {"enabled": ["This camera must stay on."]}
    assert Camera.objects.get().enabled is True


def test_it_does_not_replace_a_camera_whole(staff_api, camera):
    assert staff_api.put(URL, {"enabled": False}, format="json").status_code == 405


def test_it_needs_the_csrf_token_with_a_session(camera):
    staff = get_user_model().objects.create_user("op", password="pw", is_staff=True)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.patch(URL, {"enabled": False}, format="json").status_code == 403
    assert Camera.objects.get().enabled is True
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    response = client.patch(URL, {"enabled": False}, format="json", HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 200
    assert Camera.objects.get().enabled is False


def test_it_lets_staff_choose_the_units_and_shows_what_they_resolve_to(staff_api, camera):
    camera.latitude, camera.longitude = 39.74, -104.99  # Denver
    camera.save()
    shown = staff_api.get(URL).json()
    assert (shown["units"], shown["display_units"]) == ("auto", "us")
    response = staff_api.patch(URL, {"units": "metric"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["units"], response.json()["display_units"]) == ("metric", "metric")
    assert Camera.objects.get().units == "metric"


def test_it_refuses_units_it_does_not_know(staff_api, camera):
    response = staff_api.patch(URL, {"units": "imperial"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"units"}
    assert Camera.objects.get().units == "auto"
