from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cameras.models import Camera
from sequences.builder import build_sequence
from sequences.models import Sequence
from tests.factories import frames

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def token_client(*, is_staff: bool, username: str) -> APIClient:
    user = get_user_model().objects.create_user(username, password="pw-" + username)
    user.is_staff = is_staff
    user.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def staff_api(db) -> APIClient:
    return token_client(is_staff=True, username="operator")


@pytest.fixture
def user_api(db) -> APIClient:
    return token_client(is_staff=False, username="visitor")


@pytest.fixture
def secret_camera(camera: Camera) -> Camera:
    """A camera whose source settings hold what must never be shown."""
    camera.source_url = "http://cam-host.internal:8080/snapshot.jpg"
    camera.username = "camuser"
    camera.password = "hunter2-secret"
    camera.source_settings = {"token": "settings-secret"}
    camera.save()
    return camera


@pytest.fixture
def built(camera: Camera) -> Sequence:
    frames(camera, 5, START)
    camera.record_success(START)
    return build_sequence(camera)


SECRETS = ("hunter2-secret", "camuser", "cam-host.internal", "settings-secret", "source_url")
