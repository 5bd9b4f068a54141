"""A client that asks for the loop and then reads nothing cannot starve the others: against a
real daphne, twenty connections stall mid-GIF while other clients get /status and the loop."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import process_env
from tests.test_end_to_end import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

# A sequence whose GIF is far larger than a socket buffer, so a stalled reader holds it.
SEED = """
import datetime as dt
import numpy as np, cv2
from django.utils import timezone
from cameras.capture import store_frame
from cameras.models import Camera
from cameras.sources import Grab
from sequences.builder import build_sequence
camera = Camera.objects.create(name="Slow", slug="slow", location_name="Slow Rd")
rng = np.random.default_rng(1)
now = timezone.now()
for i in range(10):
    noise = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", noise)[1].tobytes()
    store_frame(camera, Grab(jpeg, 1280, 720), now - dt.timedelta(seconds=6 * (10 - i)))
print(build_sequence(camera).gif_bytes)
"""


@pytest.fixture
def daphne(tmp_path: Path) -> Iterator[int]:
    with process_env(tmp_path, MEDIA_RATE="1000/min", PUBLIC_RATE="1000/min") as env:
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        seeded = subprocess.run(
            [*manage, "shell", "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True
        )
        assert int(seeded.stdout.split()[-1]) > 4_000_000
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "imgserv_site.asgi:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=20)


def stalled_reader(port: int) -> socket.socket:
    """Asks for the loop, takes a few bytes, then reads nothing more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"GET /sequence/latest HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert sock.recv(64).startswith(b"HTTP/1.1 200")
    return sock


def test_stalled_readers_do_not_hold_up_other_clients(daphne: int):
    stalled = [stalled_reader(daphne) for _ in range(20)]
    try:
        started = time.monotonic()
        for path in ("/status", "/health", "/sequence/latest"):
            connection = http.client.HTTPConnection("127.0.0.1", daphne, timeout=10)
            connection.request("GET", path)
            answer = connection.getresponse()
            answer.read()
            connection.close()
            # /health may say no worker runs (none does here): an answer all the same.
            assert answer.status in (200, 503), path
        assert time.monotonic() - started < 5
    finally:
        for sock in stalled:
            sock.close()
