"""The operator's path against a real RTSP camera (gst-rtsp-server, digest auth), through the
real `manage.py camera` command in its own process, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def all_command_lines() -> str:
    lines = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "))
            except OSError:
                continue
    return b"\n".join(lines).decode(errors="replace")


@pytest.fixture
def cli(child_env):
    env = child_env

    def run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, **kwargs,
        )  # fmt: skip

    assert run("migrate", "--noinput", "-v0").returncode == 0
    run.env = env  # type: ignore[attr-defined]
    return run


def test_it_adds_and_checks_a_digest_camera_without_ever_showing_the_password(
    cli, rtsp_camera, camera_password, tmp_path
):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text(camera_password)
    bad.write_text(camera_password + "-wrong")
    outputs = []

    added = cli(
        "camera", "add", "Gate", "--url", rtsp_camera.url, "--username", "admin",
        "--password-file", str(good), "--update-interval", "1", "--frames", "30",
    )  # fmt: skip
    outputs.append(added.stdout + added.stderr)
    assert added.returncode == 0, added.stderr

    checked = cli("camera", "check", "Gate")
    outputs.append(checked.stdout + checked.stderr)
    assert checked.returncode == 0, checked.stderr
    assert " ms, 640×480" in checked.stdout

    # Capture runs in its own process while we read every process's command line.
    capture = subprocess.Popen(
        [sys.executable, "manage.py", "camera", "capture", "Gate", "--count", "4"],
        cwd=ROOT, env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen_running = 0
    while capture.poll() is None:
        assert camera_password not in all_command_lines()
        seen_running += 1
        time.sleep(0.2)
    out, err = capture.communicate()
    outputs.append(out + err)
    assert capture.returncode == 0, err
    assert out.count("frame ") == 4
    assert seen_running >= 5

    cli("camera", "update", "Gate", "--password-file", str(bad))
    refused = cli("camera", "check", "Gate")
    outputs.append(refused.stdout + refused.stderr)
    assert refused.returncode == 1
    assert "Authentication failed" in refused.stderr

    listed = cli("camera", "list")
    outputs.append(listed.stdout + listed.stderr)
    assert "rtsp://admin:***@127.0.0.1:" in listed.stdout
    for text in outputs:
        assert camera_password not in text
