"""Settings read from the environment: run in a fresh interpreter, as at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json
from django.conf import settings
import django
django.setup()
from django.db import connection
with connection.cursor() as c:
    c.execute("PRAGMA journal_mode")
    journal = c.fetchone()[0]
print(json.dumps({"key": settings.SECRET_KEY, "journal": journal,
                  "media": str(settings.MEDIA_ROOT),
                  "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
                  "broker": "orm" if "orm" in settings.Q_CLUSTER else "redis"}))
"""


def probe(data_dir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(IMGSRV_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="imgserv_site.settings")
    env.update(extra)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_it_generates_a_secret_key_once_and_keeps_it(tmp_path):
    first = probe(tmp_path)
    second = probe(tmp_path)
    assert len(first["key"]) >= 50
    assert first["key"] == second["key"]
    key_file = tmp_path / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_it_uses_the_given_secret_key(tmp_path):
    assert probe(tmp_path, SECRET_KEY="given-key-" + "x" * 50)["key"].startswith("given-key-")
    assert not (tmp_path / "secret_key").exists()


def test_it_defaults_to_the_embedded_mode_under_the_data_folder(tmp_path):
    result = probe(tmp_path)
    assert result["journal"] == "wal"
    assert result["media"] == str(tmp_path / "media")
    assert result["layer"] == "channels.layers.InMemoryChannelLayer"
    assert result["broker"] == "orm"


def test_it_switches_to_redis_by_configuration_only(tmp_path):
    result = probe(tmp_path, REDIS_URL="redis://127.0.0.1:6379/9")
    assert result["layer"] == "channels_redis.core.RedisChannelLayer"
    assert result["broker"] == "redis"
