"""Production settings from the environment, checked in a fresh interpreter as at start-up."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "HTTPS": "true",
    "ALLOWED_HOSTS": "cams.example.org",
    "DEBUG": "false",
}

PROBE = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({
    "proxy_ssl": settings.SECURE_PROXY_SSL_HEADER,
    "forwarded_host": settings.USE_X_FORWARDED_HOST,
    "num_proxies": settings.REST_FRAMEWORK["NUM_PROXIES"],
    "cookies_secure": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "hsts": settings.SECURE_HSTS_SECONDS,
    "cache": settings.CACHES["default"]["BACKEND"],
    "iframe": settings.IFRAME_ALLOWED_ORIGINS,
    "rate": settings.PUBLIC_RATE,
    "trusted": settings.CSRF_TRUSTED_ORIGINS,
    "debug": settings.DEBUG,
}))
"""


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    # Only what we set: no DEBUG/HTTPS/REDIS_URL leaking in from the shell running the tests.
    skip = {*PRODUCTION, "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "TRUSTED_PROXY", "PUBLIC_RATE"}
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(IMGSRV_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="imgserv_site.settings")
    env.update(extra)
    return env


def deploy_check(data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment(data_dir, **extra),
        capture_output=True,
        text=True,
    )


def probe(data_dir: Path, **extra: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment(data_dir, **extra),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_it_passes_the_deploy_check_with_production_settings(tmp_path):
    result = deploy_check(tmp_path, SECRET_KEY=secrets.token_urlsafe(60), **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    # Only the two HSTS checks silenced in settings.py, with the reason written there.
    assert "System check identified no issues (2 silenced)." in result.stdout


def test_it_fails_the_deploy_check_without_https(tmp_path):
    result = deploy_check(
        tmp_path, SECRET_KEY=secrets.token_urlsafe(60), **{**PRODUCTION, "HTTPS": "false"}
    )
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


def test_it_defaults_to_no_debug_and_trusts_no_forwarded_headers(tmp_path):
    result = probe(tmp_path)
    assert result["debug"] is False
    assert result["proxy_ssl"] is None and result["forwarded_host"] is False
    assert result["num_proxies"] == 0
    assert result["cookies_secure"] == [False, False]
    assert result["hsts"] == 0
    assert result["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert result["rate"] == "120/min"


def test_it_trusts_the_proxy_headers_only_when_told(tmp_path):
    result = probe(tmp_path, TRUSTED_PROXY="true")
    assert result["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert result["forwarded_host"] is True
    assert result["num_proxies"] == 1


def test_it_reads_the_public_settings_from_the_environment(tmp_path):
    result = probe(
        tmp_path,
        HTTPS="true",
        PUBLIC_RATE="30/min",
        IFRAME_ALLOWED_ORIGINS="https://news.example.org,https://b.example.com",
        CSRF_TRUSTED_ORIGINS="https://cams.example.org",
    )
    assert result["cookies_secure"] == [True, True]
    assert result["hsts"] == 31_536_000
    assert result["rate"] == "30/min"
    assert result["iframe"] == ["https://news.example.org", "https://b.example.com"]
    assert result["trusted"] == ["https://cams.example.org"]


def test_it_shares_the_rate_limit_counters_through_redis_in_scale_out_mode(tmp_path):
    result = probe(tmp_path, REDIS_URL="redis://127.0.0.1:6379/9")
    assert result["cache"] == "django.core.cache.backends.redis.RedisCache"
