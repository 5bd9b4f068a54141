"""ONVIF discovery and grabs against a local SOAP device (WS-Security digest checked)."""

from __future__ import annotations

import base64
import datetime as dt
import time

import pytest

from cameras.sources.base import CaptureError, CaptureErrorKind
from cameras.sources.http_snapshot import HttpSnapshotSource
from cameras.sources.onvif import OnvifSource, Profile, discover, password_digest
from cameras.sources.rtsp import RtspSource
from tests.rig.silent_server import SilentServer

pytestmark = pytest.mark.integration


def test_it_discovers_profiles_and_uris(make_onvif_device, snapshot_camera, camera_password):
    device = make_onvif_device(stream_uri="rtsp://127.0.0.1:8554/Streaming/101")
    found = discover("127.0.0.1", device.port, "admin", camera_password, timeout=2)
    assert found.profiles == [
        Profile("Profile_1", "mainStream", 1280, 720),
        Profile("Profile_2", "subStream", 640, 360),
    ]
    assert found.stream_uri == "rtsp://127.0.0.1:8554/Streaming/101"
    assert found.snapshot_uri == snapshot_camera.url()
    # The media service was found through GetCapabilities, at the address we contacted.
    assert found.media_url == f"http://127.0.0.1:{device.port}/onvif/Media"
    assert device.auth_failures == 0


def test_it_asks_for_the_chosen_profile(make_onvif_device, camera_password) -> None:
    device = make_onvif_device()
    found = discover("127.0.0.1", device.port, "admin", camera_password, 2, "Profile_2")
    assert found.profile_token == "Profile_2"
    with pytest.raises(CaptureError, match="no profile with that token") as info:
        discover("127.0.0.1", device.port, "admin", camera_password, 2, "Profile_9")
    assert info.value.kind == CaptureErrorKind.NO_PROFILE


def test_it_follows_the_camera_clock(make_onvif_device, camera_password) -> None:
    # The device refuses tokens created over 5 minutes from its own (wrong) clock.
    device = make_onvif_device(clock_offset=dt.timedelta(hours=-3, minutes=-7))
    found = discover("127.0.0.1", device.port, "admin", camera_password, timeout=2)
    assert found.stream_uri and device.auth_failures == 0


def test_it_grabs_through_the_snapshot_uri(make_onvif_device, camera_password) -> None:
    device = make_onvif_device()
    source = OnvifSource("127.0.0.1", device.port, username="admin", password=camera_password)
    try:
        grab = source.grab()
        assert (grab.width, grab.height) == (640, 480)
        assert isinstance(source.inner, HttpSnapshotSource)
        source.grab()
        assert device.calls.count("GetProfiles") == 1  # discovered once per session
    finally:
        source.close()


def test_it_grabs_through_rtsp_without_a_snapshot_uri(
    make_onvif_device, rtsp_camera, camera_password
) -> None:
    device = make_onvif_device(stream_uri=rtsp_camera.url, snapshot_uri=None)
    source = OnvifSource("127.0.0.1", device.port, username="admin", password=camera_password)
    try:
        assert source.grab().width == 640
        assert isinstance(source.inner, RtspSource)
    finally:
        source.close()


def test_it_reports_a_wrong_password_in_plain_words(
    make_onvif_device, camera_password, leak_check
) -> None:
    device = make_onvif_device()
    wrong = camera_password + "-wrong"
    source = OnvifSource("127.0.0.1", device.port, username="admin", password=wrong)
    with pytest.raises(CaptureError) as info:
        source.grab()
    assert str(info.value) == "Authentication failed."
    assert info.value.kind == CaptureErrorKind.AUTH_FAILED
    assert device.auth_failures >= 1
    leak_check(wrong, info.value)


def test_it_reports_a_closed_port(silent_server: SilentServer) -> None:
    port = silent_server.port
    silent_server.stop()
    with pytest.raises(CaptureError, match=r"^Host unreachable \(connection refused\)\.$") as info:
        discover("127.0.0.1", port, "admin", "x", timeout=1)
    assert info.value.kind == CaptureErrorKind.REFUSED


def test_it_times_out_on_a_device_that_never_answers(silent_server: SilentServer) -> None:
    started = time.monotonic()
    with pytest.raises(CaptureError, match=r"^Timed out\.$") as info:
        discover("127.0.0.1", silent_server.port, "admin", "x", timeout=1)
    assert info.value.kind == CaptureErrorKind.TIMED_OUT
    # One deadline for the whole discovery, not one per SOAP call.
    assert time.monotonic() - started < 1.5
    assert silent_server.accepted == 1


def test_it_reports_a_server_that_is_not_onvif(snapshot_camera) -> None:
    with pytest.raises(CaptureError, match=r"^Not an ONVIF device") as info:
        discover("127.0.0.1", snapshot_camera.port, "admin", "x", timeout=1)
    assert info.value.kind == CaptureErrorKind.NOT_ONVIF


def test_it_computes_the_ws_security_digest() -> None:
    # Worked example from the ONVIF Application Programmer's Guide (UsernameToken).
    nonce = base64.b64decode("LKqI6G/AikKCQrN0zqZFlg==")
    digest = password_digest(nonce, "2010-09-16T07:50:45Z", "userpassword")
    assert digest == "tuOSpGlFlIXsozq4HFNeeGeFLEI="
