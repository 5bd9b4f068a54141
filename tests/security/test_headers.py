"""Security headers on every response; framing allowed for the iframe views only."""

from __future__ import annotations

import pytest

PAGES = ["/", "/status", "/health", "/admin/login/", "/api/cameras/", "/no-such-page"]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split("; ")}


@pytest.mark.parametrize("url", PAGES)
def test_it_sends_the_security_headers_on_every_response(client, camera, url):
    response = client.get(url)
    csp = directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_it_lets_the_viewer_reach_its_websocket_and_media(client, camera):
    csp = directives(client.get("/"))
    assert {"'self'", "ws:", "wss:"} <= set(csp["connect-src"])
    assert "blob:" in csp["media-src"] and "data:" in csp["img-src"]


@pytest.mark.parametrize("url", ["/iframe", "/camera/main-street/iframe"])
def test_it_lets_only_the_configured_origins_frame_the_iframe(client, camera, settings, url):
    settings.IFRAME_ALLOWED_ORIGINS = ["https://news.example.org", "https://a.example.com"]
    response = client.get(url)
    assert response.status_code == 200
    assert directives(response)["frame-ancestors"] == [
        "'self'",
        "https://news.example.org",
        "https://a.example.com",
    ]
    assert "X-Frame-Options" not in response


def test_it_lets_only_this_site_frame_the_iframe_by_default(client, camera):
    assert directives(client.get("/iframe"))["frame-ancestors"] == ["'self'"]


def test_it_refuses_framing_of_the_viewer_even_with_origins_configured(client, camera, settings):
    settings.IFRAME_ALLOWED_ORIGINS = ["https://news.example.org"]
    response = client.get("/")
    assert directives(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_it_sends_hsts_and_secure_cookies_over_https(client, admin_user, settings):
    settings.HTTPS = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    response = client.get("/admin/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.cookies["csrftoken"]["secure"]
