"""Settings read from the environment: run in a fresh interpreter, as at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


# Opening files is audited (PEP 578): the probe lists each .env it opens and each write under
# the checkout's data folder, whatever part of Django or the settings does it.
WATCH = """
import os, sys
ROOT = {root!r}
opened, written = [], []
def hook(event, args):
    if event == "open" and isinstance(args[0], str):
        path = os.path.abspath(args[0])
        if os.path.basename(path) == ".env":
            opened.append(path)
        if path.startswith(os.path.join(ROOT, "data")) and args[2] & (os.O_WRONLY | os.O_RDWR):
            written.append(path)
    if event in ("os.mkdir", "sqlite3.connect") and isinstance(args[0], str):
        if os.path.abspath(args[0]).startswith(os.path.join(ROOT, "data")):
            written.append(args[0])
sys.addaudithook(hook)
import json
import django
from django.conf import settings
django.setup()
from django.db import connection
if connection.vendor == "sqlite":  # the control's .env names a server that is not there
    connection.ensure_connection()
print(json.dumps({{"opened": opened, "written": written, "debug": settings.DEBUG,
                  "database": str(settings.DATABASES["default"]["NAME"]),
                  "data": str(settings.DATA_DIR)}}))
"""


def watched(settings_module: str, **extra: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "IMGSRV_ENV_FILE", "IMGSRV_DATA_DIR")
    }
    env.update(DJANGO_SETTINGS_MODULE=settings_module, **extra)
    out = subprocess.run(
        [sys.executable, "-c", WATCH.format(root=str(ROOT))],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def developer_env(tmp_path: Path) -> Path:
    """A developer's .env that would change a test run: debug pages, another database."""
    path = tmp_path / ".env"
    path.write_text("DEBUG=true\nDATABASE_URL=postgres://nobody@192.0.2.1:1/production\n")
    return path


def test_the_project_settings_read_the_env_file(tmp_path, developer_env):
    """The probe sees what a .env does: the control for the test below."""
    result = watched(
        "imgserv_site.settings", IMGSRV_ENV_FILE=str(developer_env), IMGSRV_DATA_DIR=str(tmp_path)
    )
    assert result["opened"] == [str(developer_env)]
    assert result["debug"] is True
    assert result["database"] == "production"


def test_the_test_settings_read_no_env_file_and_write_nothing_in_the_checkout(developer_env):
    result = watched("imgserv_site.settings_test", IMGSRV_ENV_FILE=str(developer_env))
    assert result["opened"] == []  # neither the one named nor the checkout's own .env
    assert result["written"] == []
    assert result["debug"] is False
    assert not Path(result["data"]).is_relative_to(ROOT)
    assert Path(result["database"]).parent == Path(result["data"])
    assert not Path(result["data"]).exists()  # removed when the process ended


WRITES_INTO_DATA = """
from pathlib import Path

def test_it_writes_into_the_checkout():
    (Path(__file__).parent / "data").mkdir(exist_ok=True)  # a data folder elsewhere: fine
    leftovers = Path({root!r}) / "data" / "guard-probe"
    leftovers.mkdir(parents=True, exist_ok=True)
    (leftovers / "frame.jpg").write_text("a test's leftovers")
"""


def test_a_test_that_writes_into_the_checkouts_data_folder_fails(tmp_path):
    data = ROOT / "data"
    had_data = data.exists()
    test_file = tmp_path / "test_writes.py"
    test_file.write_text(WRITES_INTO_DATA.format(root=str(ROOT)))
    # The suite's own conftest and settings, for a test file outside the checkout.
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", "pyproject.toml", "--rootdir", str(ROOT),
         "-p", "no:cacheprovider", "-q", str(test_file)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    leaked = data / "guard-probe"
    if leaked.exists() or data.exists() != had_data:
        # Removed by another process: this one's own guard would refuse.
        subprocess.run(["rm", "-rf", str(leaked if had_data else data)], check=True)
        pytest.fail("the guard let the write through")
    assert done.returncode == 1, done.stdout[-3000:]
    assert "a test wrote into the checkout's data folder" in done.stdout
