"""The data folder is private, for real: `manage.py` and daphne started from a login shell's
umask (022) on a fresh data folder make nothing that another user of the machine can read."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import process_env, scaleout_urls

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

# A camera with a password (the key file) and a frame (the media folder).
SETUP = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from cameras.models import Camera
Camera.objects.create(name="Gate", slug="gate", location_name="Gate", password="pw-1")
default_storage.save("frames/gate/one.jpg", ContentFile(b"jpeg"))
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def data(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    folder = tmp_path / "data"  # not made yet: the processes make it
    with process_env(folder) as env:
        yield folder, env


def manage(env: dict[str, str], *args: str, umask: int = 0o022) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, check=True, capture_output=True, umask=umask, timeout=120,
    )  # fmt: skip


@pytest.fixture
def daphne(data) -> Iterator[str]:
    folder, env = data
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "imgserv_site.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, umask=0o022,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/status", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("daphne did not answer within 30 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_it_makes_the_data_folder_and_its_secrets_private_from_a_fresh_start(data, daphne):
    folder, env = data
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "shell", "-c", SETUP)
    # daphne holds the database open: its WAL and shared-memory files exist now.
    with urllib.request.urlopen(f"{daphne}/status", timeout=5):
        pass
    private = {
        folder: 0o700,
        folder / "media": 0o700,
        folder / "media" / "frames" / "gate": 0o700,
        folder / "secret_key": 0o600,
        folder / "field_key": 0o600,
    }
    if not scaleout_urls():
        private[folder / "imgserv.sqlite3"] = 0o600
        for companion in ("imgserv.sqlite3-wal", "imgserv.sqlite3-shm"):
            if (folder / companion).exists():
                private[folder / companion] = 0o600
        assert (folder / "imgserv.sqlite3-wal").exists()
    found = {path: oct(mode(path)) for path in private}
    assert found == {path: oct(m) for path, m in private.items()}


def test_it_takes_away_what_others_could_read_in_an_existing_data_folder(data):
    folder, env = data
    manage(env, "migrate", "--noinput", "-v0", umask=0o022)
    # As an older version left them under `make run`.
    for path in folder.iterdir():
        path.chmod(0o644)
    folder.chmod(0o755)
    (folder / "media").mkdir(mode=0o755)
    (folder / "media").chmod(0o755)
    manage(env, "check")
    for path in folder.iterdir():
        if path.is_file():
            assert mode(path) == 0o600, path
    # Folders keep their execute bits: in production nginx passes through them.
    assert mode(folder) == 0o711
    assert mode(folder / "media") == 0o711


def test_it_keeps_a_umask_that_already_keeps_others_out(data):
    """The systemd units' UMask=0027 lets nginx read media through its group."""
    folder, env = data
    manage(env, "migrate", "--noinput", "-v0", umask=0o027)
    manage(env, "shell", "-c", SETUP, umask=0o027)
    assert mode(folder / "media" / "frames" / "gate") == 0o750
    assert mode(folder / "field_key") == 0o600
    assert mode(folder / "secret_key") == 0o600
    if not scaleout_urls():
        assert mode(folder / "imgserv.sqlite3") == 0o600
    assert os.stat(folder).st_mode & 0o007 == 0
