"""Security headers on every response; framing allowed for the iframe views only; over HTTPS,
HSTS and secure cookies, from the settings as a real start-up reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

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


# The site as an operator starts it: settings.py read in a fresh interpreter from these
# variables (and no .env), requests through the project's real middleware. No database: the
# pages asked for need none, and /health only has to answer without a redirect.
PRODUCTION = {
    "HTTPS": "true",
    "ALLOWED_HOSTS": "cams.example.org",
    "DEBUG": "false",
    "SECRET_KEY": "production-like-" + "k" * 50,
}
PROBE = """
import json
import django
django.setup()
from django.test import Client

client = Client(HTTP_HOST="cams.example.org")

def seen(response):
    cookies = {name: bool(c["secure"]) for name, c in response.cookies.items()}
    return {"status": response.status_code, "headers": dict(response.headers), "secure": cookies}

print(json.dumps({
    "https": seen(client.get("/admin/login/", secure=True)),
    "http": seen(client.get("/admin/login/")),
    "health": seen(client.get("/health")),
    "proxied": seen(client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")),
}))
"""


def started_with(data_dir: Path, **variables: str) -> dict[str, dict]:
    """What the site answers when started with exactly these variables (none from the shell
    running the tests, no .env)."""
    names = {*PRODUCTION, "TRUSTED_PROXY", "HSTS_SECONDS", "SECURE_SSL_REDIRECT"}
    env = {k: v for k, v in os.environ.items() if k not in names | {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="imgserv_site.settings",
        IMGSRV_DATA_DIR=str(data_dir),
        IMGSRV_ENV_FILE="",
        **variables,
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_it_sends_hsts_and_secure_cookies_over_https(tmp_path):
    seen = started_with(tmp_path, **PRODUCTION)
    https = seen["https"]
    assert https["status"] == 200
    assert https["headers"]["Strict-Transport-Security"] == "max-age=31536000"
    assert https["secure"] == {"csrftoken": True}
    assert https["headers"]["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in https["headers"]["Content-Security-Policy"]
    assert "camera=()" in https["headers"]["Permissions-Policy"]
    # Plain HTTP is sent to HTTPS, except the health check local monitors probe.
    assert seen["http"]["status"] == 301
    assert seen["http"]["headers"]["Location"] == "https://cams.example.org/admin/login/"
    assert seen["health"]["status"] in (200, 503)
    assert "Strict-Transport-Security" not in seen["health"]["headers"]


def test_it_believes_a_forwarded_https_only_behind_the_trusted_proxy(tmp_path):
    assert started_with(tmp_path, **PRODUCTION)["proxied"]["status"] == 301
    proxied = started_with(tmp_path, **PRODUCTION, TRUSTED_PROXY="true")["proxied"]
    assert proxied["status"] == 200
    assert proxied["headers"]["Strict-Transport-Security"] == "max-age=31536000"


def test_it_sends_no_hsts_and_plain_cookies_without_https(tmp_path):
    seen = started_with(tmp_path, **{**PRODUCTION, "HTTPS": "false"})
    assert seen["http"]["status"] == 200
    assert "Strict-Transport-Security" not in seen["http"]["headers"]
    assert seen["http"]["secure"] == {"csrftoken": False}
