"""Error pages in production show nothing of the installation."""

from __future__ import annotations

import pytest
from django.conf import settings as live_settings
from django.urls import path


def boom(request):
    raise RuntimeError(f"exploded with {live_settings.SECRET_KEY}")


urlpatterns = [path("boom", boom)]


@pytest.mark.urls("tests.security.test_error_pages")
def test_it_shows_no_traceback_or_secret_on_a_server_error(client, db):
    client.raise_request_exception = False
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.content.decode()
    assert live_settings.SECRET_KEY not in body
    assert "Traceback" not in body and "RuntimeError" not in body
    assert response["Content-Security-Policy"]


def test_it_shows_no_url_list_on_a_404(client, db):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    body = response.content.decode()
    assert "admin/" not in body and "api/" not in body
