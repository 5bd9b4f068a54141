from __future__ import annotations

from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from cameras.sources.base import CaptureError
from cameras.sources.demo import DemoSource, render_scene

ZONE = timezone(timedelta(hours=1))
NOON = datetime(2024, 1, 15, 12, 0, 0, tzinfo=ZONE)
MIDNIGHT = datetime(2024, 1, 15, 0, 0, 0, tzinfo=ZONE)


def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("size", [(320, 240), (640, 480), (1280, 720), (1920, 1080), (500, 700)])
def test_it_renders_the_requested_size_and_dtype(size):
    width, height = size
    image = render_scene(width, height, NOON)
    assert image.shape == (height, width, 3)
    assert image.dtype == np.uint8


def test_it_is_deterministic_for_the_same_time_and_moves_within_seconds():
    first = render_scene(640, 360, NOON, seed=3)
    again = render_scene(640, 360, NOON, seed=3)
    later = render_scene(640, 360, NOON + timedelta(seconds=6), seed=3)
    assert np.array_equal(first, again)
    moved = np.abs(first.astype(np.int16) - later.astype(np.int16))
    assert moved.mean() > 0.5
    assert (moved.max(axis=2) > 40).sum() > 500  # whole cars moved, not just noise


def test_it_makes_night_darker_than_noon():
    night = render_scene(640, 360, MIDNIGHT.replace(hour=23))
    noon = render_scene(640, 360, NOON)
    assert grey(night).mean() < 0.4 * grey(noon).mean()


def test_it_warms_the_sky_at_dusk():
    dusk = render_scene(640, 360, NOON.replace(hour=18, minute=10))
    noon = render_scene(640, 360, NOON)
    blue, _green, red = (float(c) for c in dusk[40:80].reshape(-1, 3).mean(axis=0))
    assert red > blue  # the horizon glows orange rather than blue
    assert noon[40:80, :, 0].mean() > noon[40:80, :, 2].mean()


def test_it_adds_white_pixels_when_snowing():
    plain = render_scene(640, 360, NOON.replace(hour=11))
    snowy = render_scene(640, 360, NOON.replace(hour=11), snow=True)
    assert (grey(snowy) > 220).sum() > 10 * max(1, (grey(plain) > 220).sum())


def test_it_grabs_a_decodable_jpeg_of_the_right_size():
    source = DemoSource(800, 450, clock=lambda: NOON)
    grab = source.grab()
    pixels = cv2.imdecode(np.frombuffer(grab.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None
    assert pixels.shape == (450, 800, 3)
    assert (grab.width, grab.height) == (800, 450)


def test_it_refuses_to_grab_after_close():
    source = DemoSource(320, 240, clock=lambda: NOON)
    source.close()
    with pytest.raises(CaptureError):
        source.grab()


@pytest.mark.parametrize("at", [MIDNIGHT, NOON])
@pytest.mark.parametrize("snow", [False, True])
def test_it_is_never_a_uniform_image(at, snow):
    image = render_scene(640, 360, at, snow=snow)
    assert grey(image).std() > 8.0
