"""RtspSource against a real RTSP camera (gst-rtsp-server, digest auth) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from cameras.capture import validate_jpeg
from cameras.sources.base import CaptureError, CaptureErrorKind, Grab
from cameras.sources.rtsp import RtspSource
from cameras.sources.urls import mask_text, mask_url, split_credentials, with_credentials
from tests.conftest import testdata as shared_testdata
from tests.rig.rtsp_server import RtspServer
from tests.rig.silent_server import SilentServer

pytestmark = pytest.mark.integration


def decoded_size(grab: Grab) -> tuple[int, int]:
    pixels = cv2.imdecode(np.frombuffer(grab.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None, "not a decodable JPEG"
    return pixels.shape[1], pixels.shape[0]


@pytest.fixture
def source(rtsp_camera: RtspServer, camera_password: str):
    src = RtspSource(rtsp_camera.url, username="admin", password=camera_password)
    yield src
    src.close()


def test_it_grabs_a_jpeg_of_the_stream_size(source: RtspSource) -> None:
    grab = source.grab()
    assert decoded_size(grab) == (640, 480) == (grab.width, grab.height)
    validate_jpeg(grab)


def test_it_scales_to_the_requested_size(rtsp_camera: RtspServer, camera_password: str) -> None:
    src = RtspSource(rtsp_camera.url, username="admin", password=camera_password, width=320)
    try:
        grab = src.grab()
    finally:
        src.close()
    assert decoded_size(grab) == (320, 240) == (grab.width, grab.height)


def test_it_keeps_one_session_for_a_burst(source: RtspSource) -> None:
    started = time.perf_counter()
    source.grab()
    first = time.perf_counter() - started
    container = source.container
    later = []
    for _ in range(4):
        started = time.perf_counter()
        source.grab()
        later.append(time.perf_counter() - started)
    assert source.opens == 1
    assert source.container is container
    # Opening costs an RTSP handshake plus a keyframe; a held session waits for one packet.
    assert max(later) < first / 2, (first, later)


def test_it_returns_the_newest_frame_after_a_pause(source: RtspSource) -> None:
    source.grab()
    source.grab()  # the camera's clock mapping (RTCP) is known after the first frames
    before = source.stream_time
    time.sleep(2)
    source.grab()
    assert before is not None and source.stream_time is not None
    # Buffered video would be a frame or two after `before`; the newest is ~2 s later.
    assert source.stream_time - before == pytest.approx(2, abs=0.5)


def test_it_reports_a_wrong_password_in_plain_words(
    rtsp_camera: RtspServer, camera_password: str, leak_check
) -> None:
    wrong = camera_password + "-wrong"
    src = RtspSource(rtsp_camera.url, username="admin", password=wrong)
    with pytest.raises(CaptureError) as info:
        src.grab()
    assert str(info.value) == "Authentication failed."
    assert info.value.kind == CaptureErrorKind.AUTH_FAILED
    leak_check(wrong, info.value)
    assert "rtsp://" not in str(info.value)


def test_it_never_leaks_a_password_given_in_the_url(rtsp_camera: RtspServer, leak_check) -> None:
    url = rtsp_camera.url.replace("rtsp://", "rtsp://admin:in-url-secret@")
    src = RtspSource(url)
    assert "in-url-secret" not in repr(src)
    with pytest.raises(CaptureError, match=r"^Authentication failed\.$") as info:
        src.grab()
    leak_check("in-url-secret", info.value)


def test_it_accepts_a_password_with_url_special_characters(make_rtsp_camera) -> None:
    password = "p@ss:w/rd%25 #?x"
    camera = make_rtsp_camera(password=password)
    src = RtspSource(camera.url, username="admin", password=password)
    try:
        assert src.grab().width == 640
    finally:
        src.close()


def test_it_reports_a_closed_port(silent_server: SilentServer) -> None:
    port = silent_server.port
    silent_server.stop()  # nothing listens there now
    started = time.perf_counter()
    with pytest.raises(CaptureError, match=r"^Host unreachable \(connection refused\)\.$") as info:
        RtspSource(f"rtsp://127.0.0.1:{port}/stream0", password="x").grab()
    assert info.value.kind == CaptureErrorKind.REFUSED
    assert time.perf_counter() - started < 1


def test_it_times_out_on_a_camera_that_never_answers(silent_server: SilentServer) -> None:
    src = RtspSource(silent_server.url(), password="x", open_timeout=1.5, read_timeout=1.5)
    started = time.perf_counter()
    with pytest.raises(CaptureError, match=r"^Timed out\.$") as info:
        src.grab()
    elapsed = time.perf_counter() - started
    assert info.value.kind == CaptureErrorKind.TIMED_OUT
    assert silent_server.accepted == 1
    assert 1.4 < elapsed < 2.5


def test_it_times_out_when_a_held_stream_stalls_then_recovers(make_rtsp_camera) -> None:
    camera = make_rtsp_camera()
    src = RtspSource(
        camera.url,
        username="admin",
        password=camera.password,
        open_timeout=1.5,
        read_timeout=1.5,
    )
    try:
        src.grab()
        camera.pause()
        time.sleep(0.3)
        # Video sent just before the freeze may still be new to this grab; after that, no
        # frame is handed out twice.
        with contextlib.suppress(CaptureError):
            src.grab()
        started = time.perf_counter()
        with pytest.raises(CaptureError, match=r"^Timed out\.$"):
            src.grab()
        assert time.perf_counter() - started < 1.5 + 1
        camera.resume()
        assert src.grab().width == 640
    finally:
        src.close()


def test_it_reports_a_stream_that_stops_mid_burst_then_recovers(make_rtsp_camera) -> None:
    camera = make_rtsp_camera()
    src = RtspSource(camera.url, username="admin", password=camera.password)
    try:
        src.grab()
        camera.stop(hard=True)  # the camera crashes: its connection drops
        # Let the reader see the reset; before that, video sent just before the crash is
        # still a legitimate (new) frame for this grab.
        time.sleep(0.3)
        with pytest.raises(CaptureError) as info:
            src.grab()
        # The held session ended, the one reconnect was refused: either is a plain answer.
        assert str(info.value) in ("Host unreachable (connection refused).", "Stream ended.")
        assert info.value.kind in (CaptureErrorKind.REFUSED, CaptureErrorKind.STREAM_ENDED)
        camera.start()
        assert src.grab().width == 640
        assert src.opens == 2
    finally:
        src.close()


def test_it_reports_a_server_that_is_not_a_video_stream(snapshot_camera) -> None:
    # An HTTP server answering RTSP requests: FFmpeg cannot make sense of it.
    src = RtspSource(f"rtsp://127.0.0.1:{snapshot_camera.port}/stream0")
    with pytest.raises(CaptureError, match=r"^Not a video stream\.$") as info:
        src.grab()
    assert info.value.kind == CaptureErrorKind.NO_STREAM


def test_it_keeps_the_password_off_every_command_line(source: RtspSource, camera_password) -> None:
    source.grab()  # the session is open while we look
    assert source.container is not None
    leaked = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # the process ended meanwhile
        if camera_password in text:
            leaked.append(cmdline.parent.name)
    assert not leaked, f"password on the command line of pids {leaked}"


def test_it_grabs_from_a_real_clip(make_rtsp_camera) -> None:
    clip = shared_testdata("videos/highway_overpass_720p.mp4")
    camera = make_rtsp_camera(clip=clip, size=(1280, 720))
    src = RtspSource(camera.url, username="admin", password=camera.password)
    try:
        grab = src.grab()
    finally:
        src.close()
    assert decoded_size(grab) == (1280, 720)
    validate_jpeg(grab)


# --- URL helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:s3cret@cam.local:554/Streaming/101", "rtsp://admin:***@cam.local:554/Streaming/101"),
        ("rtsp://admin:p@ss@10.0.0.5/live", "rtsp://admin:***@10.0.0.5/live"),
        ("rtsp://admin@10.0.0.5/live", "rtsp://admin@10.0.0.5/live"),
        ("http://10.0.0.5/cgi-bin/snap.cgi?user=admin&password=s3cret&ch=1",
         "http://10.0.0.5/cgi-bin/snap.cgi?user=admin&password=***&ch=1"),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
    ],
)  # fmt: skip
def test_it_masks_passwords_in_urls(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_it_masks_urls_and_secrets_inside_text() -> None:
    text = "[Errno 1] Server returned 401: 'rtsp://admin:s%40cret@10.0.0.5/live' (s@cret)"
    assert mask_text(text, ["s@cret"]) == (
        "[Errno 1] Server returned 401: 'rtsp://admin:***@10.0.0.5/live' (***)"
    )


def test_it_splits_and_rejoins_credentials() -> None:
    bare, user, password = split_credentials("rtsp://ad%40min:p%3Ass@cam:554/live?x=1")
    assert (bare, user, password) == ("rtsp://cam:554/live?x=1", "ad@min", "p:ss")
    assert with_credentials(bare, user, password) == "rtsp://ad%40min:p%3Ass@cam:554/live?x=1"
    assert split_credentials("rtsp://cam/live") == ("rtsp://cam/live", "", "")
