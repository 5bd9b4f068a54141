"""HTTP input at the edges: a Host not served, and numbers written in other scripts."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imgserv_site.log_filters import CLIENT_FAULT_LOGGERS

# int() takes all of these; a query string must not.
NOT_ASCII_DIGITS = ["٥", "５", "1_0", "+5", "5.0", "٢٤"]


def test_it_answers_a_bad_host_with_400_and_one_line_without_traceback(client, db, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    [record] = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert "evil.example" in record.getMessage()
    assert record.exc_info is None and not record.exc_text
    assert all(r.exc_info is None for r in caplog.records)


def test_it_logs_every_client_fault_logger_without_traceback():
    for name in CLIENT_FAULT_LOGGERS:
        record = logging.LogRecord(name, logging.ERROR, __file__, 1, "bad", None, None)
        try:
            raise ValueError("boom")
        except ValueError as exc:
            record.exc_info = (type(exc), exc, exc.__traceback__)
        assert logging.getLogger(name).filter(record), name
        assert record.exc_info is None, name


@pytest.mark.parametrize("hours", NOT_ASCII_DIGITS)
def test_it_refuses_hours_not_written_in_ascii_digits(client, camera, hours):
    response = client.get("/analytics/history", {"camera": camera.slug, "hours": hours})
    assert response.status_code == 400
    assert "hours must be a whole number" in response.json()["error"]


def test_it_still_takes_hours_in_ascii_digits(client, camera):
    response = client.get("/analytics/history", {"camera": camera.slug, "hours": "5"})
    assert response.status_code == 200 and response.json()["hours"] == 5


@pytest.mark.parametrize("hours", NOT_ASCII_DIGITS)
def test_the_api_refuses_hours_not_written_in_ascii_digits(camera, hours):
    response = APIClient().get(f"/api/cameras/{camera.slug}/analytics/history", {"hours": hours})
    assert response.status_code == 400
    assert "hours" in response.json()


def test_the_api_still_takes_hours_in_ascii_digits(camera):
    response = APIClient().get(f"/api/cameras/{camera.slug}/analytics/history", {"hours": "5"})
    assert response.status_code == 200 and response.json()["hours"] == 5


@pytest.mark.parametrize("value", ["٥", "1_0", "5.0"])
def test_the_api_refuses_a_camera_number_not_written_in_ascii_digits(camera, value):
    user = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    url = f"/api/cameras/{camera.slug}/"
    response = api.patch(url, {"frames_per_sequence": value}, format="json")
    assert response.status_code == 400
    assert "frames_per_sequence" in response.json()
    assert api.patch(url, {"frames_per_sequence": 7}, format="json").status_code == 200
