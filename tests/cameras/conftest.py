"""Fixtures that start the real camera rig (tests/rig) on free 127.0.0.1 ports.

The RTSP camera needs Debian packages (deploy/system-packages.txt); without them its tests
skip and say which package is missing (and fail under CI=true, where `make test` installs them).
The HTTP and ONVIF servers are standard library.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.rig import RigUnavailable
from tests.rig.onvif_device import OnvifDevice
from tests.rig.rtsp_server import RtspServer
from tests.rig.silent_server import SilentServer
from tests.rig.snapshot_server import SnapshotServer

USERNAME = "admin"


@pytest.fixture(scope="session")
def camera_password() -> str:
    # Random, so finding it anywhere (logs, ps, exception text) can only mean a leak.
    return "pw-" + secrets.token_hex(8)


@pytest.fixture(scope="session")
def rtsp_camera(camera_password: str) -> Iterator[RtspServer]:
    """One shared 640x480 digest-auth camera for tests that do not disturb it."""
    try:
        server = RtspServer(username=USERNAME, password=camera_password)
    except RigUnavailable as exc:
        unavailable(str(exc))
    with server:
        yield server


@pytest.fixture
def make_rtsp_camera(camera_password: str) -> Iterator[Callable[..., RtspServer]]:
    """A private camera per call (tests that kill, freeze or reconfigure it)."""
    started: list[RtspServer] = []

    def make(**options: Any) -> RtspServer:
        options.setdefault("username", USERNAME)
        options.setdefault("password", camera_password)
        try:
            server = RtspServer(**options)
        except RigUnavailable as exc:
            unavailable(str(exc))
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def snapshot_camera(camera_password: str) -> Iterator[SnapshotServer]:
    with SnapshotServer(username=USERNAME, password=camera_password) as server:
        yield server


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


@pytest.fixture
def make_onvif_device(
    camera_password: str, snapshot_camera: SnapshotServer
) -> Iterator[Callable[..., OnvifDevice]]:
    """An ONVIF device whose snapshot URI is the rig's snapshot camera by default."""
    started: list[OnvifDevice] = []

    def make(**options: Any) -> OnvifDevice:
        options.setdefault("username", USERNAME)
        options.setdefault("password", camera_password)
        options.setdefault("stream_uri", "rtsp://127.0.0.1:9/none")
        options.setdefault("snapshot_uri", snapshot_camera.url())
        device = OnvifDevice(**options)
        started.append(device)
        return device

    yield make
    for device in started:
        device.stop()


@pytest.fixture
def leak_check(caplog: pytest.LogCaptureFixture) -> Callable[[str, BaseException], None]:
    """Assert a secret appears nowhere in an exception (text, args, chain) or the logs."""
    caplog.set_level("DEBUG")

    def check(secret: str, exc: BaseException) -> None:
        seen: list[BaseException] = []
        current: BaseException | None = exc
        while current is not None and current not in seen:
            seen.append(current)
            current = current.__cause__ or current.__context__
        for item in seen:
            assert secret not in str(item)
            assert secret not in repr(item)
            assert all(secret not in str(arg) for arg in item.args)
        assert secret not in caplog.text

    return check
