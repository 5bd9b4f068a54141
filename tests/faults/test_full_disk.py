"""A full disk, for real: the media folder on a small tmpfs, filled with old frames until a
write fails. A real worker then frees the oldest frames on its own (MIN_FREE_DISK_MB) and
capture resumes, with nobody deleting anything by hand."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import process_env, scaleout_urls

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration
TMPFS_MB = 12
FLOOR_MB = 3

# Old frames of noise (JPEG cannot shrink noise) until the disk refuses one.
FILL = """
import datetime as dt, errno
import cv2, numpy as np
from cameras.capture import store_frame
from cameras.models import Camera
from cameras.sources import Grab
camera = Camera.objects.get(slug="demo")
rng = np.random.default_rng(0)
when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
stored = 0
while True:
    noise = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    try:
        store_frame(camera, Grab(jpeg, 640, 360), when + dt.timedelta(seconds=6 * stored))
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
        break
    stored += 1
print(stored)
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    media = tmp_path / "media"
    media.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(media)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs as root and can mount a tmpfs: {mounted.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield media
    finally:
        subprocess.run(["umount", "-l", str(media)], check=False)


def frame_times(data: Path) -> list[dt.datetime]:
    with sqlite3.connect(data / "imgserv.sqlite3", timeout=10) as db:
        rows = db.execute("SELECT captured_at FROM cameras_frame ORDER BY captured_at")
        return [dt.datetime.fromisoformat(r[0]).replace(tzinfo=dt.UTC) for r in rows]


def test_capture_resumes_on_a_full_disk_without_an_operator(tmp_path: Path, small_disk: Path):
    if scaleout_urls():
        pytest.skip("reads the embedded SQLite database")
    extra = {
        "MEDIA_ROOT": str(small_disk),
        "MEDIA_QUOTA_MB": "0",
        "MIN_FREE_DISK_MB": str(FLOOR_MB),
        "FRAME_RETENTION_HOURS": "100000",
    }
    with process_env(tmp_path, **extra) as env:
        manage = [sys.executable, "manage.py"]
        for command in (["migrate", "--noinput", "-v0"], ["demo"]):
            subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
        filled = subprocess.run(
            [*manage, "shell", "-c", FILL], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert filled.returncode == 0, filled.stderr[-2000:]
        old_frames = int(filled.stdout.split()[-1])
        assert old_frames > 10
        assert shutil.disk_usage(small_disk).free < FLOOR_MB * 2**20
        started = dt.datetime.now(dt.UTC)
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [*manage, "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                if any(t > started for t in frame_times(tmp_path)):
                    break
                time.sleep(1)
            else:
                pytest.fail("no frame was stored after the disk filled up")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            log.close()
        assert shutil.disk_usage(small_disk).free >= (FLOOR_MB - 1) * 2**20
        # The oldest frames made the room: the worker freed them itself.
        assert len([t for t in frame_times(tmp_path) if t < started]) < old_frames
        output = (tmp_path / "worker.log").read_text(errors="replace")
        assert "Traceback" not in output, output[-3000:]
