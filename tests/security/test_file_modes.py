"""The data folder is private, for real: `manage.py` and daphne started from a login shell's
umask (022) on a fresh data folder make nothing that another user of the machine can read."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
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


@contextlib.contextmanager
def daphne(env: dict[str, str]) -> Iterator[str]:
    """daphne from a login shell's umask, answering."""
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
            except urllib.error.HTTPError:
                break  # it answers (before `migrate`, with an error)
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("daphne did not answer /status within 30 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_it_makes_the_data_folder_and_its_secrets_private_from_a_fresh_start(data):
    folder, env = data
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "shell", "-c", SETUP)
    private = {
        folder: 0o700,
        folder / "media": 0o700,
        folder / "media" / "frames" / "gate": 0o700,
        folder / "secret_key": 0o600,
        folder / "field_key": 0o600,
    }
    embedded = not scaleout_urls()
    if embedded:
        names = ("imgserv.sqlite3", "imgserv.sqlite3-wal", "imgserv.sqlite3-shm")
        private.update({folder / name: 0o600 for name in names})
    with wal_open(folder / "imgserv.sqlite3") if embedded else contextlib.nullcontext():
        found = {path: oct(mode(path)) for path in private}
    assert found == {path: oct(m) for path, m in private.items()}


@contextlib.contextmanager
def wal_open(database: Path) -> Iterator[None]:
    """The database open with a write done, so that its -wal and -shm exist, from a process
    whose umask (022) would make them 0644: SQLite gives them the database's own mode."""
    before = os.umask(0o022)
    try:
        with contextlib.closing(sqlite3.connect(database)) as db:
            db.execute("CREATE TABLE IF NOT EXISTS probe (x)")
            db.commit()
            yield
    finally:
        os.umask(before)


def test_daphne_alone_makes_a_private_data_folder(data):
    folder, env = data
    with daphne(env):
        assert mode(folder) == 0o700
        assert mode(folder / "secret_key") == 0o600
        if not scaleout_urls():
            assert mode(folder / "imgserv.sqlite3") == 0o600


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


def test_a_command_run_by_hand_keeps_an_installations_media_readable_to_nginx(data):
    """deploy/install.sh makes media setgid and group nginx's; an operator's command from a
    login shell (umask 022) must not make folders there that nginx cannot enter."""
    folder, env = data
    manage(env, "migrate", "--noinput", "-v0", umask=0o027)
    (folder / "media").mkdir()
    (folder / "media").chmod(0o2750)
    manage(env, "shell", "-c", SETUP, umask=0o022)
    assert mode(folder / "media" / "frames" / "gate") & 0o777 == 0o750
    assert mode(folder / "field_key") == 0o600
