"""Capture applies a camera's privacy masks when it stores a frame, and writes nothing
unmasked: cameras.capture.store_frame and capture_frame with PrivacyMask rows."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone

from cameras import capture, masks
from cameras.capture import capture_frame, store_frame
from cameras.models import Camera, Frame, PrivacyMask, PrivacySettings
from cameras.sources import open_source
from tests.factories import ScriptedSource, grab

LEFT_HALF = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def decoded(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def media_files() -> list[Path]:
    return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())


@pytest.fixture
def masked(camera: Camera) -> Camera:
    PrivacyMask.objects.create(camera=camera, polygon=LEFT_HALF, style="solid")
    return camera


def test_without_masks_it_stores_the_cameras_bytes_untouched(camera):
    sent = grab()
    frame = store_frame(camera, sent, NOW)
    assert (Path(settings.MEDIA_ROOT) / frame.file).read_bytes() == sent.jpeg


def test_with_a_mask_it_stores_only_the_masked_frame(masked, monkeypatch):
    written: list[bytes] = []
    real_write = capture.write_atomically

    def spy(path: Path, data: bytes) -> None:
        written.append(data)
        real_write(path, data)

    monkeypatch.setattr(capture, "write_atomically", spy)
    sent = grab()
    frame = store_frame(masked, sent, NOW)

    [stored] = media_files()
    assert written == [stored.read_bytes()]  # one write, of the masked bytes
    image = decoded(stored.read_bytes())
    assert np.abs(image[:, :300].astype(int)).max() <= 8  # the left half is black
    assert image[:, 340:].std() > 10  # the right half is still the picture
    assert stored.read_bytes() != sent.jpeg
    assert (frame.size_bytes, frame.width, frame.height) == (stored.stat().st_size, 640, 360)
    # The camera's own bytes are named by their hash (frozen cameras are recognised by it),
    # but never written.
    assert frame.sha256 == hashlib.sha256(sent.jpeg).hexdigest()


def test_a_frame_that_cannot_be_masked_is_not_stored(masked, monkeypatch):
    def broken(*args: object, **kwargs: object) -> tuple[bytes, int, int]:
        raise masks.MaskError("the masked frame could not be encoded.")

    monkeypatch.setattr(capture, "mask_jpeg", broken)
    assert capture_frame(masked, ScriptedSource([grab()])) is None
    masked.refresh_from_db()
    assert masked.last_error == "Frame not stored: the masked frame could not be encoded."
    assert media_files() == [] and not Frame.objects.exists()


def test_blurring_that_opencv_cannot_do_stores_nothing_rather_than_the_plates(camera, monkeypatch):
    # Set while OpenCV could detect; OpenCV was changed since (the form refuses it now).
    PrivacySettings.objects.bulk_create([PrivacySettings(camera=camera, blur_plates=True)])
    monkeypatch.setattr(masks, "detection_problem", lambda: "OpenCV 5.0.0 has no cascades.")
    assert capture_frame(camera, ScriptedSource([grab()])) is None
    camera.refresh_from_db()
    assert camera.last_error == "Frame not stored: OpenCV 5.0.0 has no cascades."
    assert media_files() == []


def test_detected_plates_are_blurred_in_the_stored_frame(camera, monkeypatch):
    PrivacySettings.objects.bulk_create([PrivacySettings(camera=camera, blur_plates=True)])
    asked = []

    def found(image: np.ndarray, *, plates: bool, faces: bool) -> list[masks.Box]:
        asked.append((plates, faces))
        return [(200, 110, 200, 60)]  # on the moving block's edge: detail to lose

    monkeypatch.setattr(masks, "detect", found)
    sent = grab(seed=4)
    frame = store_frame(camera, sent, NOW)
    before, after = (
        decoded(sent.jpeg),
        decoded((Path(settings.MEDIA_ROOT) / frame.file).read_bytes()),
    )
    plate = (slice(115, 165), slice(205, 395))

    def edges(image: np.ndarray) -> float:
        return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_32F).std())

    assert asked == [(True, False)]
    assert edges(after[plate]) < 0.3 * edges(before[plate])
    assert np.abs(after[250:].astype(int) - before[250:]).mean() < 3  # elsewhere, as it was


def test_a_frozen_camera_is_still_recognised_with_masks(masked):
    same = grab()
    source = ScriptedSource([same] * (capture.FROZEN_AFTER + 1))
    for _ in range(capture.FROZEN_AFTER):
        assert capture_frame(masked, source) is not None
    assert capture_frame(masked, source) is None
    masked.refresh_from_db()
    assert masked.last_error.startswith("Frozen image")


def test_the_demo_cameras_frames_are_stored_masked(masked):
    source = open_source(masked)
    try:
        frame = capture_frame(masked, source)
    finally:
        source.close()
    assert frame is not None
    image = decoded((Path(settings.MEDIA_ROOT) / frame.file).read_bytes())
    half = image.shape[1] // 2
    assert np.abs(image[:, : half - 8].astype(int)).max() <= 8
    assert image[:, half + 8 :].std() > 10
    assert frame.captured_at <= timezone.now()
