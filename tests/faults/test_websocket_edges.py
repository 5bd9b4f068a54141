"""The websocket and HTTP edges against a real daphne: junk frames, a `..` slug, a 5,000
character path, an unknown camera, foreign and missing Origins and a bad Host. None of them
closes a good socket or writes a traceback to daphne's log."""

from __future__ import annotations

import asyncio
import http.client
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.processes import process_env
from tests.test_end_to_end import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@dataclass
class Daphne:
    port: int
    log: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def daphne(tmp_path_factory) -> Iterator[Daphne]:
    data = tmp_path_factory.mktemp("data")
    with process_env(data) as env:
        for command in (["migrate", "--noinput", "-v0"], ["demo"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
            )  # fmt: skip
        server = Daphne(free_port(), data / "daphne.log")
        with server.log.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(server.port),
                 "imgserv_site.asgi:application"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                wait_until_listening(server.port)
                yield server
            finally:
                process.terminate()
                process.wait(timeout=10)


def wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("daphne did not start within 30 s")


def handshake_status(server: Daphne, path: str, origin: str | None) -> int:
    """101 when the socket opened, else the HTTP status of the refusal."""

    async def attempt() -> int:
        headers = {"Origin": origin} if origin else {}
        try:
            async with websockets.connect(
                server.url(path), additional_headers=headers, origin=None, open_timeout=10
            ):
                return 101
        except InvalidStatus as exc:
            return int(exc.response.status_code)

    return asyncio.run(attempt())


def test_it_ignores_junk_frames_and_keeps_the_socket_open(daphne):
    async def session() -> None:
        async with websockets.connect(daphne.url("/ws/live/"), origin=daphne.origin) as socket:
            for frame in ("junk, not JSON", b"\x00\xff" * 500, "{}", "[1, 2", "x" * 60_000):
                await socket.send(frame)
            # Still open: a ping is answered, and nothing closed the socket.
            await asyncio.wait_for(await socket.ping(), timeout=5)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(socket.recv(), timeout=1)

    asyncio.run(session())
    assert "Traceback" not in daphne.text()


@pytest.mark.parametrize(
    "path", ["/ws/live/../", "/ws/live/..%2F/", "/ws/live/" + "a" * 5000 + "/", "/ws/nope/"]
)
def test_it_refuses_a_path_that_is_no_route_with_403(daphne, path):
    assert handshake_status(daphne, path, daphne.origin) == 403
    assert "Traceback" not in daphne.text()


def test_it_closes_an_unknown_camera_with_4404(daphne):
    async def session() -> int | None:
        url = daphne.url("/ws/live/no-such-camera/")
        async with websockets.connect(url, origin=daphne.origin) as socket:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(socket.recv(), timeout=5)
            return socket.close_code

    assert asyncio.run(session()) == 4404
    assert "Traceback" not in daphne.text()


def test_it_serves_the_demo_camera_and_clients_without_an_origin(daphne):
    assert handshake_status(daphne, "/ws/live/demo/", daphne.origin) == 101
    assert handshake_status(daphne, "/ws/live/", None) == 101


def test_it_refuses_an_origin_on_another_port(daphne):
    assert handshake_status(daphne, "/ws/live/", "http://127.0.0.1:9") == 403
    assert handshake_status(daphne, "/ws/live/", "https://evil.example") == 403


def test_it_answers_a_bad_host_with_400_and_one_log_line(daphne):
    connection = http.client.HTTPConnection("127.0.0.1", daphne.port, timeout=5)
    connection.request("GET", "/", headers={"Host": "evil.example"})
    assert connection.getresponse().status == 400
    time.sleep(0.3)  # the log line is written after the response
    lines = [line for line in daphne.text().splitlines() if "evil.example" in line]
    assert len([line for line in lines if "DisallowedHost" in line]) == 1
    assert "Traceback" not in daphne.text()
