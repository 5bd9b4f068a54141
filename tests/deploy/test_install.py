"""deploy/install.sh: the interview in a terminal, the checks of a non-interactive run, and a
re-run that changes nothing. Against a staging root (PREFIX); tests/deploy/test_in_container.py
runs it for real."""

from __future__ import annotations

import os
import pty
import select
import termios
import time
from pathlib import Path

import pytest

from tests.deploy.staging import checksums, script, source_copy


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return source_copy(tmp_path_factory.mktemp("source"))


class Terminal:
    """A program on a pseudo-terminal, answered prompt by prompt, as a person would type."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the program, on the terminal's slave side
            os.execve(argv[0], argv, env)
        self.screen = ""
        self.read_up_to = 0

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # the program has ended and closed the terminal
            return False
        self.screen += chunk.decode(errors="replace")
        return bool(chunk)

    def expect(self, text: str, timeout: float = 30) -> str:
        """Wait until TEXT shows after what was read before; return what came up to it."""
        deadline = time.monotonic() + timeout
        while text not in self.screen[self.read_up_to :]:
            if time.monotonic() > deadline or not self._read(0.2):
                raise AssertionError(f"no {text!r} on the screen:\n{self.screen}")
        end = self.screen.index(text, self.read_up_to) + len(text)
        shown, self.read_up_to = self.screen[self.read_up_to : end], end
        return shown

    def type(self, answer: str) -> None:
        os.write(self.fd, answer.encode() + b"\r")

    def type_hidden(self, answer: str, timeout: float = 10) -> None:
        """Type once the program has turned echo off, as a person does after the prompt: a
        key typed before that would be echoed by the terminal, whatever the program does."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.fd)[3] & termios.ECHO:
            assert time.monotonic() < deadline, "echo stayed on for a hidden answer"
            time.sleep(0.01)
        self.type(answer)

    def finish(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.2):
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def test_it_asks_in_a_terminal_and_asks_again_after_a_bad_answer(source, tmp_path):
    root = tmp_path / "root"
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "TERM": "dumb", "PREFIX": str(root)}
    term = Terminal(["/bin/bash", str(source / "deploy/install.sh"), "--interactive"], env)
    term.expect("Admin user name [admin]: ")
    term.type("ops")
    term.expect("Admin password (8 characters or more; empty: generate one): ")
    term.type_hidden("short")
    assert "Not accepted: at least 8 characters" in term.expect("Admin password (")
    term.expect(": ")
    term.type_hidden("a-good-admin-password")
    term.expect("Again, to be sure: ")
    term.type_hidden("a-good-admin-password")
    term.expect("First camera's name [Camera 1]: ")
    term.type("Main St")
    term.expect("[demo:]: ")
    term.type("ftp://192.0.2.10/cam")
    assert "Not accepted: use rtsp://" in term.expect("[demo:]: ")
    term.type("rtsp://admin:pw@192.0.2.10:554/Streaming/101")
    assert "not in the URL" in term.expect("[demo:]: ")
    term.type("rtsp://192.0.2.10:554/Streaming/101")
    term.expect("Camera user name (empty: none): ")
    term.type("viewer")
    term.expect("Camera password: ")
    term.type_hidden("camera-secret")
    term.expect("Again, to be sure: ")
    term.type_hidden("camera-secret")
    term.expect("Camera latitude, for the weather (e.g. 39.7392; empty: none): ")
    term.type("95")
    assert "Not accepted: a number from -90 to 90" in term.expect("Camera latitude")
    term.expect(": ")
    term.type("39.7392")
    term.expect("Camera longitude (e.g. -104.9903): ")
    term.type("-104.9903")
    term.expect("Camera time zone [")
    term.expect("]: ")
    term.type("America/Denvre")
    assert "is not a known time zone" in term.expect("Camera time zone [")
    term.expect("]: ")
    term.type("America/Denver")
    term.expect("Units: auto (from the location), metric (°C, cm) or us (°F, in) [auto]: ")
    term.type("")
    term.expect("Public server, user@host (empty: none): ")
    term.type("publish@cams.example.org")
    term.expect("Its domain name: ")
    term.type("cams.example.org")
    term.expect("E-mail for Let's Encrypt: ")
    term.type("ops@example.org")
    summary = term.expect("Install with these settings? (yes/no) [yes]: ")
    assert "Main St: rtsp://192.0.2.10:554/Streaming/101 (user viewer, password set)" in summary
    assert "39.7392, -104.9903; America/Denver; auto" in summary
    term.type("")
    assert term.finish() == 0, term.screen

    # Hidden answers are never echoed, nor written anywhere.
    for secret in ("a-good-admin-password", "camera-secret", "short"):
        assert secret not in term.screen
    conf = (root / "etc/imgserv/install.conf").read_text()
    for line in (
        "ADMIN_USER=ops",
        "CAMERA_NAME=Main\\ St",
        "CAMERA_URL=rtsp://192.0.2.10:554/Streaming/101",
        "CAMERA_USER=viewer",
        "LATITUDE=39.7392",
        "LONGITUDE=-104.9903",
        "TIME_ZONE=America/Denver",
        "UNITS=auto",
        "PUBLIC_SERVER=publish@cams.example.org",
        "PUBLIC_DOMAIN=cams.example.org",
        "PUBLIC_EMAIL=ops@example.org",
    ):
        assert line in conf.splitlines(), line
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and "/app/" not in str(path):
            text = path.read_bytes()
            assert b"a-good-admin-password" not in text and b"camera-secret" not in text, path
    settings = (root / "etc/imgserv/env").read_text()
    assert "TIME_ZONE=America/Denver" in settings and "UNITS=auto" in settings


def test_a_no_at_the_end_changes_nothing(source, tmp_path):
    env = {"PATH": os.environ["PATH"], "TERM": "dumb", "PREFIX": str(tmp_path / "root")}
    term = Terminal(["/bin/bash", str(source / "deploy/install.sh"), "--interactive"], env)
    for prompt, answer in [
        ("Admin user name [admin]: ", ""),
        ("generate one): ", ""),
        ("[Camera 1]: ", ""),
        ("[demo:]: ", ""),
        ("empty: none): ", ""),
        ("Camera time zone [", ""),
        ("[auto]: ", "us"),
        ("Public server, user@host (empty: none): ", ""),
        ("(yes/no) [yes]: ", "maybe"),
        ("(yes/no) [yes]: ", "no"),
    ]:
        term.expect(prompt)
        term.type(answer)
    assert term.finish() == 1
    assert "nothing was changed" in term.screen
    assert not (tmp_path / "root").exists()


def test_it_names_each_missing_or_bad_variable_and_changes_nothing(source, tmp_path):
    done = script(
        source, "install.sh", "--check",
        CAMERA_URL="rtsp://admin:secret@192.0.2.10/stream", LATITUDE="95", UNITS="kelvin",
        PUBLIC_SERVER="not a server", TIME_ZONE="Mars/Olympus", CONF_FILE=str(tmp_path / "no.conf"),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    errors = done.stderr
    named = ["CAMERA_URL:", "LATITUDE:", "LONGITUDE: needed with LATITUDE", "UNITS:"]
    named += ["PUBLIC_SERVER:", "PUBLIC_DOMAIN:", "TIME_ZONE:", "ADMIN_PASSWORD:"]
    for variable in named:
        assert f"imgserv-install: {variable}" in errors, (variable, errors)
    assert "secret" not in errors
    assert "nothing was changed" in errors

    missing = script(source, "install.sh", "--check", CONF_FILE=str(tmp_path / "no.conf"))
    assert missing.returncode == 2
    assert "ADMIN_PASSWORD: needed by a first install" in missing.stderr
    assert "CAMERA_URL: needed by a first install" in missing.stderr


def test_flags_and_files_answer_like_variables(source, tmp_path):
    password = tmp_path / "admin.pw"
    password.write_text("from-a-file-123\n")
    done = script(
        source, "install.sh", "--check", "--camera-url", "onvif://192.0.2.10:8080",
        f"--admin-password-file={password}", "--latitude=-33.87", "--longitude", "151.21",
        "--time-zone", "Australia/Sydney", CONF_FILE=str(tmp_path / "no.conf"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Camera 1: onvif://192.0.2.10:8080" in done.stdout
    assert "-33.87, 151.21; Australia/Sydney; auto" in done.stdout
    assert "from-a-file" not in done.stdout

    unreadable = script(
        source, "install.sh", "--check", "--camera-url=demo:",
        f"--admin-password-file={tmp_path / 'missing'}", CONF_FILE=str(tmp_path / "no.conf"),
    )  # fmt: skip
    assert unreadable.returncode == 2
    assert "ADMIN_PASSWORD_FILE: cannot read" in unreadable.stderr
    unknown = script(source, "install.sh", "--camera-ulr=demo:")
    assert unknown.returncode == 2 and "unknown option: --camera-ulr" in unknown.stderr


def test_it_refuses_a_python_older_than_3_11_saying_so(source, tmp_path):
    old = tmp_path / "python3.10"
    old.write_text('#!/bin/sh\ncase "$*" in *sys.exit*) exit 1 ;; *) echo 3.10.12 ;; esac\n')
    old.chmod(0o755)
    done = script(
        source, "install.sh", "--check", PYTHON=str(old), CAMERA_URL="demo:",
        ADMIN_PASSWORD="long-enough", CONF_FILE=str(tmp_path / "no.conf"),
    )  # fmt: skip
    assert done.returncode == 1
    assert f"imgserv needs Python 3.11 or newer; '{old}' is Python 3.10.12." in done.stderr


def test_a_staged_re_run_changes_no_file(source, tmp_path):
    root = tmp_path / "root"
    first = script(source, "install.sh", prefix=root, TIME_ZONE="Europe/Oslo")
    assert first.returncode == 0, first.stderr
    before = checksums(root)
    again = script(source, "install.sh", prefix=root, TIME_ZONE="Asia/Tokyo")
    assert again.returncode == 0, again.stderr
    assert "the code is unchanged" in again.stdout
    assert "TIME_ZONE is ignored on a re-run" in again.stdout
    assert checksums(root) == before
    current = os.readlink(root / "opt/imgserv/current")
    assert (
        current.startswith("releases/") and (root / "opt/imgserv" / current / ".complete").exists()
    )
    assert os.readlink(root / "opt/imgserv/app") == "current/app"
    unit = (root / "etc/systemd/system/imgserv-web.service").read_text()
    assert "WorkingDirectory=/opt/imgserv/current/app" in unit
    assert "ExecStart=/opt/imgserv/current/venv/bin/python -m daphne" in unit
    assert "PartOf=imgserv.target" in unit and "WantedBy=imgserv.target" in unit
    command = root / "usr/local/bin/imgserv"
    assert os.access(command, os.X_OK) and "SERVICE_USER=imgserv" in command.read_text()
    assert "/var/lib/imgserv/log/*.log {" in (root / "etc/logrotate.d/imgserv").read_text()


def test_changed_code_becomes_a_new_release_beside_the_old_one(source, tmp_path):
    root = tmp_path / "root"
    assert script(source, "install.sh", prefix=root).returncode == 0
    old = os.readlink(root / "opt/imgserv/current")
    changed = source_copy(tmp_path / "changed")
    (changed / "CHANGELOG-test").write_text("a change\n")
    assert script(changed, "install.sh", prefix=root).returncode == 0
    new = os.readlink(root / "opt/imgserv/current")
    assert new != old and (root / "opt/imgserv" / old / "app/manage.py").exists()
    assert (root / "opt/imgserv" / new / "app/CHANGELOG-test").exists()


def test_an_interrupted_build_is_cleaned_up_by_the_next_run(source, tmp_path):
    root = tmp_path / "root"
    assert script(source, "install.sh", prefix=root).returncode == 0
    half = root / "opt/imgserv/releases/20000101T000000Z-copy"
    (half / "app").mkdir(parents=True)
    changed = source_copy(tmp_path / "changed")
    (changed / "CHANGELOG-test").write_text("a change\n")
    done = script(changed, "install.sh", prefix=root)
    assert done.returncode == 0
    assert f"removing an interrupted build: {half}" in done.stdout
    assert not half.exists()


def test_help_lists_the_variables(source):
    shown = script(source, "install.sh", "--help").stdout
    for variable in ("ADMIN_PASSWORD_FILE", "CAMERA_URL", "LATITUDE", "TIME_ZONE", "UNITS",
                     "PUBLIC_EMAIL", "--non-interactive", "--check"):  # fmt: skip
        assert variable in shown, variable


def test_the_scripts_the_readme_names_can_be_run_as_written():
    deploy = Path(__file__).resolve().parents[2] / "deploy"
    for name in ("install.sh", "update.sh", "uninstall.sh", "test-in-container.sh"):
        assert os.access(deploy / name, os.X_OK), f"deploy/{name} is not executable"
