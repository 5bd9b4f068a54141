"""The `imgserv` command (deploy/imgserv.sh): manage.py of the installed instance, as the
service user, with the installed settings and nothing from the caller's environment."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.staging import ROOT

PRINT_SETTINGS = (
    "import os; from django.conf import settings; "
    "print(os.getuid(), settings.TIME_ZONE, settings.DEBUG, settings.DATA_DIR, os.getcwd())"
)


def runs_as(user: str, program: Path) -> bool:
    checked = subprocess.run(["runuser", "-u", user, "--", str(program), "-c", ""], check=False)
    return checked.returncode == 0


@pytest.fixture
def command() -> Iterator[tuple[Path, str, Path]]:
    """The command rendered against this checkout, for a service user that can read it (in a
    folder of its own: pytest's tmp_path is private to root)."""
    user = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0 and runs_as("daemon", ROOT / ".venv/bin/python"):
        user = "daemon"  # else this checkout's Python is in root's home (pyenv): root it is
    tmp_path = Path(tempfile.mkdtemp(prefix="imgserv-command-"))
    tmp_path.chmod(0o755)
    data = tmp_path / "data"
    data.mkdir()
    shutil.chown(data, user)
    settings = tmp_path / "env"
    settings.write_text(f"IMGSRV_DATA_DIR={data}\nTIME_ZONE=America/Denver\nDEBUG=false\n")
    wrapper = tmp_path / "imgserv"
    values = {
        "USER": user, "APP_DIR": str(ROOT), "VENV": str(ROOT / ".venv"), "DATA_DIR": str(data),
        "ENV_FILE": str(settings),
    }  # fmt: skip
    text = (ROOT / "deploy" / "imgserv.sh").read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    wrapper.write_text(text)
    wrapper.chmod(0o755)
    yield wrapper, user, data
    shutil.rmtree(tmp_path)


def test_it_runs_manage_py_as_the_service_user_with_the_installed_settings(command):
    wrapper, user, data = command
    caller = {**os.environ, "DEBUG": "true", "TIME_ZONE": "UTC", "IMGSRV_DATA_DIR": "/elsewhere"}
    where = "/root" if os.geteuid() == 0 else None
    done = subprocess.run(
        [str(wrapper), "shell", "-v", "0", "-c", PRINT_SETTINGS],
        capture_output=True, text=True, timeout=120, env=caller, cwd=where,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    uid, zone, debug, data_dir, cwd = done.stdout.split()
    assert int(uid) == pwd.getpwnam(user).pw_uid
    assert (zone, debug, data_dir) == ("America/Denver", "False", str(data))
    if user == "daemon":
        assert cwd == "/", "the service user cannot enter /root: the command starts in /"


def test_it_refuses_other_users_and_says_how(command):
    if os.geteuid() != 0:
        pytest.skip("needs root to run as another user")
    wrapper, user, _ = command
    done = subprocess.run(
        ["runuser", "-u", "nobody", "--", str(wrapper), "doctor"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"run it as root (sudo imgserv doctor) or as {user}" in done.stderr
