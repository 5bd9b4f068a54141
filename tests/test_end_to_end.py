"""The README's promise, for real: from an empty data folder, the same steps as `make run`
(migrate, admin user, demo camera, daphne + the worker) serve a live sequence within 120 s."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from PIL import Image, ImageSequence

from tests.processes import process_env

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


@pytest.fixture(scope="module")
def site_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    """Embedded: SQLite in the data folder; scale-out: throwaway PostgreSQL and Redis databases."""
    data = tmp_path_factory.mktemp("data")
    with process_env(data, PORT=str(free_port()), PY=sys.executable) as env:
        yield env


@pytest.fixture(scope="module")
def server(site_env) -> Iterator[str]:
    env = site_env
    data, port = Path(env["IMGSRV_DATA_DIR"]), env["PORT"]
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["ensure_admin"], ["demo"]):
        subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
    log = (data / "run.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "deploy/run-local.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        output = (data / "run.log").read_bytes()
        # Web and worker share SQLite; WAL and the busy timeout must keep them from colliding.
        assert b"database is locked" not in output
        assert b"Traceback" not in output, output.decode(errors="replace")[-3000:]
        assert b"Stopped." in output, "run-local.py did not stop cleanly"


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            result = predicate()
            if result:
                return result
        time.sleep(0.5)
    pytest.fail(f"{what} not within {timeout} s")


def test_it_serves_a_sequence_of_at_least_five_frames_within_two_minutes(server):
    started = time.monotonic()
    wait_for(lambda: get(f"{server}/health")[0] == 200, 30, "/health 200")

    def latest():
        status, body, _headers = get(f"{server}/sequence/latest")
        return body if status == 200 else None

    gif = wait_for(latest, 120 - (time.monotonic() - started), "a sequence")
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"imgserv-e2e-{os.getpid()}.gif"
    path.write_bytes(gif)
    with Image.open(path) as image:
        frames = [f.convert("RGB") for f in ImageSequence.Iterator(image)]
    path.unlink()
    assert len(frames) >= 5
    # The overlay's bottom bar carries each frame's own capture time.
    h = frames[0].height
    bars = {f.crop((f.width // 2, int(h * 0.9), f.width, h)).tobytes() for f in frames}
    assert len(bars) == len(frames)

    status = json.loads(get(f"{server}/status")[1])
    [camera] = status["cameras"]
    assert camera["slug"] == "demo" and camera["health"] == "ok"
    sequence = camera["last_sequence"]
    assert sequence["frame_count"] >= 5
    assert sequence["first_captured_at"] < sequence["last_captured_at"]


def test_it_asks_for_a_login_on_the_admin(server):
    request = urllib.request.Request(f"{server}/admin/")
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(request, timeout=5)
    assert info.value.code == 302
    assert info.value.headers["Location"].startswith("/admin/login/")


def test_it_pushes_a_worker_built_sequence_to_a_browser_socket(server):
    """Across processes: the worker builds, daphne's viewers hear of it."""

    async def listen() -> dict:
        url = server.replace("http", "ws") + "/ws/live/"
        async with websockets.connect(url, origin=server) as socket_:
            # camera.health and condition.updated may come first.
            while True:
                message = json.loads(await asyncio.wait_for(socket_.recv(), timeout=90))
                if message["type"] == "sequence.updated":
                    return message

    message = asyncio.run(listen())
    assert message["camera"] == "demo"
    assert get(server + message["gif_url"])[0] == 200


def test_it_serves_the_viewer_and_iframe_pages(server):
    for page in ("/", "/iframe"):
        status, body, _ = get(server + page)
        assert status == 200
        assert b'data-camera="demo"' in body


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
