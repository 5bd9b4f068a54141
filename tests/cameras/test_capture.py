from __future__ import annotations

from pathlib import Path

from cameras.capture import capture_frame, frame_stored
from cameras.models import Frame
from cameras.sources import CaptureError, Grab
from tests.factories import ScriptedSource, grab


def test_it_stores_a_frame_with_its_own_time_size_and_checksum(camera, media_root):
    frame = capture_frame(camera, ScriptedSource([grab(640, 360)]))
    assert frame is not None
    path = Path(media_root) / frame.file
    assert path.read_bytes()[:2] == b"\xff\xd8"
    assert (frame.width, frame.height, frame.size_bytes) == (640, 360, path.stat().st_size)
    assert frame.file.startswith(f"frames/{camera.slug}/{frame.captured_at:%Y-%m-%d}/")
    camera.refresh_from_db()
    assert camera.health == "ok"
    assert camera.last_frame_at == frame.captured_at


def test_it_rejects_a_truncated_jpeg_and_stores_nothing(camera, media_root):
    whole = grab()
    truncated = Grab(jpeg=whole.jpeg[:200], width=whole.width, height=whole.height)
    assert capture_frame(camera, ScriptedSource([truncated])) is None
    assert not Frame.objects.exists()
    camera.refresh_from_db()
    assert camera.last_error.startswith("Corrupt frame")
    assert not list(Path(media_root).rglob("*.jpg"))


def test_it_rejects_a_blank_frame(camera):
    import cv2
    import numpy as np

    _ok, black = cv2.imencode(".jpg", np.zeros((360, 640, 3), np.uint8))
    assert capture_frame(camera, ScriptedSource([Grab(black.tobytes(), 640, 360)])) is None
    camera.refresh_from_db()
    assert camera.last_error.startswith("Blank frame")


def test_it_records_a_source_error_in_plain_words(camera):
    source = ScriptedSource([CaptureError("Authentication failed.")])
    assert capture_frame(camera, source) is None
    camera.refresh_from_db()
    assert (camera.health, camera.last_error) == ("degraded", "Authentication failed.")


def test_it_announces_each_stored_frame(camera):
    seen = []

    def listener(sender, frame, **kwargs):
        seen.append(frame.pk)

    frame_stored.connect(listener)
    try:
        frame = capture_frame(camera, ScriptedSource([grab()]))
    finally:
        frame_stored.disconnect(listener)
    assert frame is not None
    assert seen == [frame.pk]


def test_it_names_frames_so_they_cannot_collide(camera):
    first = capture_frame(camera, ScriptedSource([grab(seed=1)]))
    second = capture_frame(camera, ScriptedSource([grab(seed=2)]))
    assert first is not None and second is not None
    assert first.file != second.file


def test_it_rejects_a_frozen_stream_and_counts_the_rejection(camera):
    same = grab(seed=3)
    source = ScriptedSource([same] * 4)
    stored = [capture_frame(camera, source) for _ in range(4)]
    assert all(stored[:3])
    assert stored[3] is None
    camera.refresh_from_db()
    assert camera.last_error.startswith("Frozen image")
    assert camera.rejected_frames == 1
    assert Frame.objects.count() == 3


def test_it_rejects_a_tiny_frame(camera):
    assert capture_frame(camera, ScriptedSource([grab(80, 60)])) is None
    camera.refresh_from_db()
    assert camera.last_error == "Frame too small: 80×60 pixels."


def test_it_logs_a_failure_once_and_the_recovery_once(camera, caplog):
    errors = [CaptureError("Timed out.")] * 5
    source = ScriptedSource([*errors, grab()])
    with caplog.at_level("INFO", logger="cameras.capture"):
        for _ in range(6):
            capture_frame(camera, source)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "camera main-street: Timed out.",
        "camera main-street recovered after 5 failures",
    ]
