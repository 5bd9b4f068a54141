"""HttpSnapshotSource against a real HTTP camera (digest auth) on 127.0.0.1."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from cameras.capture import validate_jpeg
from cameras.sources.base import CaptureError, CaptureErrorKind
from cameras.sources.http_snapshot import HttpSnapshotSource, jpeg_size
from tests.rig.silent_server import SilentServer
from tests.rig.snapshot_server import SnapshotServer, make_jpeg

pytestmark = pytest.mark.integration


def snapshot(camera: SnapshotServer, path: str, password: str, **options) -> HttpSnapshotSource:
    return HttpSnapshotSource(camera.url(path), username="admin", password=password, **options)


@pytest.mark.parametrize("path", ["/ISAPI/Streaming/channels/1/picture", "/cgi-bin/snapshot.cgi"])
def test_it_grabs_a_jpeg_with_digest_auth(snapshot_camera, camera_password, path) -> None:
    before = len(snapshot_camera.requests)
    grab = snapshot(snapshot_camera, path, camera_password).grab()
    pixels = cv2.imdecode(np.frombuffer(grab.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None and pixels.shape[:2] == (480, 640)
    assert (grab.width, grab.height) == (640, 480)
    validate_jpeg(grab)
    # Challenge, then Digest: the password itself never went over the wire.
    assert [scheme for _, scheme in snapshot_camera.requests[before:]] == ["", "Digest"]


def test_it_answers_a_basic_auth_camera(camera_password) -> None:
    with SnapshotServer(password=camera_password, auth="basic") as camera:
        assert snapshot(camera, "/cgi-bin/snapshot.cgi", camera_password).grab().width == 640


def test_it_reports_a_wrong_password_in_plain_words(
    snapshot_camera, camera_password, leak_check
) -> None:
    wrong = camera_password + "-wrong"
    with pytest.raises(CaptureError) as info:
        snapshot(snapshot_camera, "/ISAPI/Streaming/channels/1/picture", wrong).grab()
    assert str(info.value) == "Authentication failed."
    assert info.value.kind == CaptureErrorKind.AUTH_FAILED
    leak_check(wrong, info.value)


def test_it_never_leaks_a_password_given_in_the_url(snapshot_camera, leak_check) -> None:
    url = snapshot_camera.url().replace("http://", "http://admin:in-url-secret@")
    source = HttpSnapshotSource(url)
    assert "in-url-secret" not in repr(source)
    with pytest.raises(CaptureError, match=r"^Authentication failed\.$") as info:
        source.grab()
    leak_check("in-url-secret", info.value)


def test_it_reports_a_closed_port(silent_server: SilentServer) -> None:
    port = silent_server.port
    silent_server.stop()
    with pytest.raises(CaptureError, match=r"^Host unreachable \(connection refused\)\.$") as info:
        HttpSnapshotSource(f"http://127.0.0.1:{port}/picture", password="x").grab()
    assert info.value.kind == CaptureErrorKind.REFUSED


def test_it_times_out_on_a_camera_that_never_answers(silent_server: SilentServer) -> None:
    started = time.perf_counter()
    with pytest.raises(CaptureError, match=r"^Timed out\.$") as info:
        HttpSnapshotSource(silent_server.url("http", "/picture"), timeout=1).grab()
    assert info.value.kind == CaptureErrorKind.TIMED_OUT
    assert time.perf_counter() - started < 2


def test_it_refuses_a_web_page(snapshot_camera, camera_password) -> None:
    with pytest.raises(CaptureError, match=r"^Not a JPEG image \(got text/html\)\.$") as info:
        snapshot(snapshot_camera, "/login.html", camera_password).grab()
    assert info.value.kind == CaptureErrorKind.NOT_JPEG


def test_it_passes_a_truncated_jpeg_on_for_validation(snapshot_camera, camera_password) -> None:
    # Declared image/jpeg with a consistent length: the source cannot tell, validation can.
    grab = snapshot(snapshot_camera, "/truncated.jpg", camera_password).grab()
    assert grab.jpeg == snapshot_camera.jpeg[: len(snapshot_camera.jpeg) // 2]
    with pytest.raises(CaptureError, match="Corrupt frame"):
        validate_jpeg(grab)


def test_it_reports_a_connection_closed_mid_image(snapshot_camera, camera_password) -> None:
    with pytest.raises(CaptureError, match=r"^Connection closed before the whole image") as info:
        snapshot(snapshot_camera, "/short.jpg", camera_password).grab()
    assert info.value.kind == CaptureErrorKind.SHORT_READ


def test_it_follows_a_redirect_with_its_credentials(snapshot_camera, camera_password) -> None:
    assert snapshot(snapshot_camera, "/redirect", camera_password).grab().width == 640


def test_it_stops_a_redirect_loop(snapshot_camera, camera_password) -> None:
    before = len(snapshot_camera.requests)
    with pytest.raises(CaptureError, match=r"^Too many redirects\.$") as info:
        snapshot(snapshot_camera, "/loop", camera_password).grab()
    assert info.value.kind == CaptureErrorKind.TOO_MANY_REDIRECTS
    assert len(snapshot_camera.requests) - before < 10


def test_it_refuses_an_image_over_the_size_limit(snapshot_camera, camera_password) -> None:
    source = snapshot(snapshot_camera, "/cgi-bin/snapshot.cgi", camera_password, max_bytes=1000)
    with pytest.raises(CaptureError, match=r"^Image too large \(over 0\.001 MB\)\.$") as info:
        source.grab()
    assert info.value.kind == CaptureErrorKind.TOO_LARGE


def test_it_reports_a_wrong_path(snapshot_camera, camera_password) -> None:
    with pytest.raises(CaptureError, match=r"^Snapshot not found \(wrong path\)\.$") as info:
        snapshot(snapshot_camera, "/nope.jpg", camera_password).grab()
    assert info.value.kind == CaptureErrorKind.NOT_FOUND


def test_it_reads_the_size_from_the_jpeg_header() -> None:
    assert jpeg_size(make_jpeg(321, 123)) == (321, 123)
    assert jpeg_size(b"<html>") is None
