"""A build killed halfway (SIGKILL, no chance to clean up) leaves the previous sequence served
whole: files are renamed into place only when complete and the row is written after them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

SETUP = """
import datetime as dt, json
from cameras.capture import store_frame
from cameras.models import Camera
from cameras.sources.demo import DemoSource
from sequences.builder import build_sequence
from sequences.models import SequenceSettings
camera = Camera.objects.create(name="Crash", slug="crash", location_name="Crash Test Rd",
                               frames_per_sequence=30, capture_width=1920, capture_height=1080)
SequenceSettings.objects.create(camera=camera, output_width=1920, output_height=1080)
start = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
for i in range(30):
    when = start + dt.timedelta(seconds=10 * i)
    store_frame(camera, DemoSource(1920, 1080, clock=lambda w=when: w).grab(), when)
seq = build_sequence(camera)
print(json.dumps({"id": seq.pk, "files": seq.files()}))
"""

CHECK = """
import json
from django.test import Client
from PIL import Image
import io
from sequences.models import Sequence
response = Client(SERVER_NAME="localhost").get("/sequence/latest")
body = b"".join(response.streaming_content)
seq = Sequence.objects.get()
frames = getattr(Image.open(io.BytesIO(body)), "n_frames", 1)
print(json.dumps({"count": Sequence.objects.count(), "id": seq.pk, "status": response.status_code,
                  "bytes": len(body), "gif_bytes": seq.gif_bytes, "frames": frames}))
"""


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_it_serves_the_previous_sequence_whole_after_a_killed_build(tmp_path, child_env):
    env = {**child_env, "MEDIA_QUOTA_MB": "0"}
    manage(env, "migrate", "--noinput", "-v0")
    before = last_json(manage(env, "shell", "-c", SETUP).stdout)
    folder = tmp_path / "media" / "sequences" / "crash"
    known = set(os.listdir(folder))

    build = subprocess.Popen(
        [sys.executable, "manage.py", "sequence", "build", "crash"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and build.poll() is None:
        if set(os.listdir(folder)) - known:  # a temp file or a first output has appeared
            break
        time.sleep(0.005)
    assert build.poll() is None, "the build finished before it could be killed"
    build.send_signal(signal.SIGKILL)
    build.wait()

    after = last_json(manage(env, "shell", "-c", CHECK).stdout)
    assert after["count"] == 1
    assert after["id"] == before["id"]
    assert after["status"] == 200
    assert after["bytes"] == after["gif_bytes"]
    assert after["frames"] == 30
