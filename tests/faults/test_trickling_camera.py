"""A camera that trickles, stalls or never answers costs one grab deadline, and leaves nothing
behind: real servers on 127.0.0.1 (their own process, or the rig's silent socket)."""

from __future__ import annotations

import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cameras.sources import TIMEOUT_SECONDS
from cameras.sources.base import CaptureError, CaptureErrorKind, Source
from cameras.sources.http_snapshot import HttpSnapshotSource
from cameras.sources.onvif import OnvifSource
from cameras.sources.rtsp import RtspSource
from tests.rig.onvif_device import OnvifDevice
from tests.rig.silent_server import SilentServer
from tests.rig.snapshot_server import make_jpeg

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).with_name("trickle_server.py")


class TrickleServer:
    """tests/faults/trickle_server.py in its own process (see there for the modes)."""

    def __init__(self, mode: str, jpeg_file: Path, interval: float = 1.0) -> None:
        self.mode = mode
        self._process = subprocess.Popen(
            [sys.executable, str(SCRIPT), mode, str(interval), str(jpeg_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.next_line(timeout=10)
        match = re.fullmatch(r"ready (\d+)", line or "")
        if match is None:
            self.stop()
            raise RuntimeError(f"trickle server did not start: {line!r}")
        self.port = int(match.group(1))

    def url(self, scheme: str = "http", path: str = "/picture") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def next_line(self, timeout: float) -> str | None:
        """The server's next line of output, or None if none comes within `timeout` s."""
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        return self._process.stdout.readline().strip() if ready else None

    def closed(self, timeout: float) -> tuple[int, float]:
        """(bytes sent, seconds the connection lasted) once the client has hung up."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            line = self.next_line(remaining) or ""
            match = re.fullmatch(r"closed \w+ sent=(\d+) after=([\d.]+)", line)
            if match:
                return int(match.group(1)), float(match.group(2))
        raise AssertionError(f"the client never hung up on the {self.mode} server")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()


@pytest.fixture
def jpeg_file(tmp_path: Path) -> Path:
    path = tmp_path / "camera.jpg"
    path.write_bytes(make_jpeg())
    return path


@pytest.fixture
def trickle_server(jpeg_file: Path) -> Iterator[Callable[..., TrickleServer]]:
    started: list[TrickleServer] = []

    def start(mode: str, interval: float = 1.0) -> TrickleServer:
        server = TrickleServer(mode, jpeg_file, interval)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# Short, so the suite stays quick; the first test uses the production timeout.
DEADLINE = 3.0
# The grab must be over this soon after its deadline.
SLACK = 1.0
OUR_THREADS = ("grab-deadline", "rtsp-open", "rtsp-reader")


def timed_failure(source: Source) -> tuple[CaptureError, float]:
    started = time.monotonic()
    with pytest.raises(CaptureError) as info:
        source.grab()
    return info.value, time.monotonic() - started


def settled_thread_count(before: int, within: float = 1.0) -> int:
    """threading.active_count() once it is back to `before`, or after `within` s."""
    deadline = time.monotonic() + within
    while threading.active_count() != before and time.monotonic() < deadline:
        time.sleep(0.02)
    return threading.active_count()


def assert_timed_out_at_its_deadline(error: CaptureError, elapsed: float, deadline: float):
    assert error.kind == CaptureErrorKind.TIMED_OUT
    assert str(error) == "Timed out."
    # Not an early failure of another kind: it waited for the deadline, and no longer.
    assert deadline - 0.1 <= elapsed <= deadline + SLACK, elapsed


def test_it_ends_a_grab_whose_jpeg_trickles_at_a_byte_a_second(
    trickle_server: Callable[..., TrickleServer],
) -> None:
    server = trickle_server("body")
    source = HttpSnapshotSource(server.url(), timeout=TIMEOUT_SECONDS)
    assert source.deadline_s == TIMEOUT_SECONDS
    before = threading.active_count()
    error, elapsed = timed_failure(source)
    assert_timed_out_at_its_deadline(error, elapsed, TIMEOUT_SECONDS)
    assert settled_thread_count(before) == before
    # The status line and headers had come, and the body had started: the cut was mid-body.
    sent, lasted = server.closed(timeout=2)
    assert sent > len("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n")
    assert lasted <= TIMEOUT_SECONDS + SLACK
    print(f"\ntrickled body: grab ended after {elapsed:.2f} s (deadline {TIMEOUT_SECONDS:g} s)")


def test_it_ends_a_grab_whose_status_line_trickles(
    trickle_server: Callable[..., TrickleServer],
) -> None:
    server = trickle_server("status")
    before = threading.active_count()
    error, elapsed = timed_failure(HttpSnapshotSource(server.url(), timeout=DEADLINE))
    assert_timed_out_at_its_deadline(error, elapsed, DEADLINE)
    assert settled_thread_count(before) == before
    sent, _ = server.closed(timeout=2)
    assert 1 <= sent < len("HTTP/1.1 200 OK\r\n")  # still inside the status line
    print(f"\ntrickled status line: grab ended after {elapsed:.2f} s (deadline {DEADLINE:g} s)")


def test_it_ends_a_grab_from_a_camera_that_never_answers() -> None:
    with SilentServer() as server:
        before = threading.active_count()
        source = HttpSnapshotSource(server.url("http", "/picture"), timeout=DEADLINE)
        error, elapsed = timed_failure(source)
        assert_timed_out_at_its_deadline(error, elapsed, DEADLINE)
        assert settled_thread_count(before) == before
        assert server.accepted == 1
    print(f"\nsilent camera: grab ended after {elapsed:.2f} s (deadline {DEADLINE:g} s)")


def test_it_ends_a_tls_handshake_that_trickles(
    trickle_server: Callable[..., TrickleServer],
) -> None:
    server = trickle_server("tls")
    before = threading.active_count()
    error, elapsed = timed_failure(HttpSnapshotSource(server.url("https"), timeout=DEADLINE))
    assert_timed_out_at_its_deadline(error, elapsed, DEADLINE)
    assert settled_thread_count(before) == before
    sent, _ = server.closed(timeout=2)
    assert sent >= 1


def test_it_counts_the_auth_round_trip_inside_the_same_deadline(
    trickle_server: Callable[..., TrickleServer],
) -> None:
    # Each answer comes whole after 0.6 deadlines: every step beats a per-step timeout, the
    # challenge and the authenticated request together do not.
    server = trickle_server("slow", interval=DEADLINE * 0.6)
    source = HttpSnapshotSource(server.url(), username="admin", password="pw", timeout=DEADLINE)
    error, elapsed = timed_failure(source)
    assert_timed_out_at_its_deadline(error, elapsed, DEADLINE)
    # With time to spare, the same camera answers.
    assert HttpSnapshotSource(server.url(), username="admin", password="pw", timeout=5).grab()


def test_it_ends_an_onvif_discovery_that_trickles(
    trickle_server: Callable[..., TrickleServer],
) -> None:
    server = trickle_server("status")
    before = threading.active_count()
    source = OnvifSource("127.0.0.1", server.port, username="admin", password="x", timeout=DEADLINE)
    error, elapsed = timed_failure(source)
    assert_timed_out_at_its_deadline(error, elapsed, DEADLINE)
    assert settled_thread_count(before) == before


def test_it_ends_an_onvif_grab_whose_snapshot_trickles(
    trickle_server: Callable[..., TrickleServer],
) -> None:
    server = trickle_server("body")
    with OnvifDevice(stream_uri="rtsp://127.0.0.1:9/none", snapshot_uri=server.url()) as device:
        source = OnvifSource("127.0.0.1", device.port, username="admin", timeout=DEADLINE)
        # The first grab's deadline covers the discovery and the snapshot together.
        error, elapsed = timed_failure(source)
        assert_timed_out_at_its_deadline(error, elapsed, DEADLINE)
        assert isinstance(source.inner, HttpSnapshotSource)
        assert device.calls.count("GetProfiles") == 1
    assert not [t.name for t in threading.enumerate() if t.name in OUR_THREADS]


def test_it_ends_an_rtsp_grab_on_a_silent_camera_within_its_deadline() -> None:
    with SilentServer() as server:
        before = threading.active_count()
        # Each step may take 5 s; the grab as a whole may not take more than 2.
        source = RtspSource(server.url(), password="x", open_timeout=5, read_timeout=5, deadline=2)
        assert source.deadline_s == 2
        error, elapsed = timed_failure(source)
        source.close()
        assert_timed_out_at_its_deadline(error, elapsed, 2)
        assert settled_thread_count(before) == before
        assert server.accepted == 1
    print(f"\nsilent RTSP camera: grab ended after {elapsed:.2f} s (deadline 2 s)")


def test_it_ends_an_rtsp_grab_whose_reply_trickles(
    trickle_server: Callable[..., TrickleServer],
) -> None:
    server = trickle_server("rtsp")
    before = threading.active_count()
    source = RtspSource(server.url("rtsp", "/stream0"), open_timeout=5, read_timeout=5, deadline=2)
    error, elapsed = timed_failure(source)
    source.close()
    assert_timed_out_at_its_deadline(error, elapsed, 2)
    assert settled_thread_count(before) == before
    sent, _ = server.closed(timeout=4)
    assert sent >= 1
