"""Tasks called directly, as the worker would."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from django.utils import timezone

from analytics import tasks
from analytics.models import ConditionReading, RoadRegion
from cameras.capture import store_frame
from cameras.models import Camera, Frame
from cameras.sources import Grab
from tests.analytics.conftest import image, read_image
from tests.analytics.test_condition import SNOWY


def store_image(camera: Camera, path: Path) -> Frame:
    frame = cv2.resize(read_image(path), (640, 360))
    jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
    return store_frame(camera, Grab(jpeg=jpeg, width=640, height=360), timezone.now())


def test_it_analyses_a_stored_frame_and_detects_the_road_once(camera):
    frame = store_image(camera, image(SNOWY))
    assert tasks.analyze_frame(frame.pk) == "snow: snow on the road (no snowfall history)"
    reading = ConditionReading.objects.get(frame=frame)
    assert reading.snow_coverage > 0.3
    assert RoadRegion.objects.get(camera=camera).method == "colour"
    assert tasks.analyze_frame(frame.pk) == "already analysed"


def test_it_uses_the_operator_polygon(camera):
    frame = store_image(camera, image(SNOWY))
    # A tenth by a tenth of the frame in the bottom-left corner: 64 × 36 px.
    corner = [[0, 0.9], [0.1, 0.9], [0.1, 1], [0, 1]]
    RoadRegion.objects.create(camera=camera, operator_polygon=corner)
    tasks.analyze_frame(frame.pk)
    assert 2000 < ConditionReading.objects.get(frame=frame).road_pixels < 2600


def test_it_exits_quietly_when_the_frame_is_gone(db):
    assert tasks.analyze_frame(123456) == "frame gone"


def test_it_skips_a_frame_whose_file_is_gone(camera, media_root):
    frame = store_image(camera, image(SNOWY))
    (media_root / frame.file).unlink()
    assert tasks.analyze_frame(frame.pk) == "frame file gone"
    assert not ConditionReading.objects.exists()


def test_it_stores_an_unreadable_frame_as_unknown_with_the_reason(camera, media_root):
    frame = store_image(camera, image(SNOWY))
    (media_root / frame.file).write_bytes(b"not a jpeg any more")
    assert tasks.analyze_frame(frame.pk) == "unknown: picture could not be read"
    reading = ConditionReading.objects.get(frame=frame)
    assert (reading.published_state, reading.level) == ("unknown", "")


def test_it_refreshes_forecasts_of_cameras_with_a_place(nws, camera):
    camera.latitude, camera.longitude = 30, -85
    camera.save()
    assert tasks.refresh_forecasts() == "1 forecasts refreshed"
    assert camera.forecasts.get().provider == "nws"


def test_it_analyses_the_latest_frame_of_each_camera(camera):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", noise)[1].tobytes()
    store_frame(camera, Grab(jpeg=jpeg, width=640, height=360), timezone.now())
    assert tasks.analyze_latest_frames() == "1 frames analysed"
    assert tasks.analyze_latest_frames() == "0 frames analysed"
