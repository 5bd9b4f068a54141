"""Pictures that cannot show the road: each gives its reason, none a state."""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest

from analytics.kinds import State
from analytics.quality import Reason, check
from analytics.reading import read_file_image
from cameras.sources.demo import render_scene
from tests.analytics.conftest import image, read_image
from tests.analytics.test_condition import DRY
from tests.analytics.test_fixed_cameras import frames


def colour_bars(width: int = 640, height: int = 480) -> np.ndarray:
    """SMPTE-like bars, as the rig's RTSP camera and many encoders show without a signal."""
    bars = [(192, 192, 192), (0, 192, 192), (192, 192, 0), (0, 192, 0), (192, 0, 192)]
    bars += [(0, 0, 192), (192, 0, 0)]
    frame = np.full((height, width, 3), 30, np.uint8)
    step = width // len(bars)
    for i, colour in enumerate(bars):
        frame[: height * 2 // 3, i * step : (i + 1) * step] = colour
    return frame


def test_it_refuses_what_is_not_a_picture():
    assert check(None).problem == Reason.UNREADABLE
    assert check(np.zeros((10, 10), np.uint8)).problem == Reason.UNREADABLE


def test_it_refuses_a_tiny_picture():
    assert check(np.full((30, 40, 3), 128, np.uint8)).problem == Reason.TOO_SMALL


def test_it_refuses_a_picture_of_one_colour():
    assert check(np.full((480, 640, 3), 90, np.uint8)).problem == Reason.BLANK


def test_it_says_a_test_pattern_shows_no_road():
    assert check(colour_bars()).problem == Reason.TEST_PATTERN


def test_it_says_a_fogged_lens_hides_the_road():
    fogged = cv2.GaussianBlur(read_image(image(DRY)), (0, 0), 12)
    assert check(fogged).problem == Reason.FOGGED


def test_it_says_a_partly_smeared_lens_hides_the_road():
    frame = cv2.resize(read_image(image(DRY)), (640, 480))
    smeared = cv2.GaussianBlur(frame, (0, 0), 15)
    frame[:, :430] = smeared[:, :430]
    assert check(frame).problem in (Reason.SMEARED, Reason.FOGGED)


def test_it_says_when_the_road_is_dark():
    dark = (render_scene(640, 360, dt.datetime(2026, 1, 1, 23, 0)) * 0.5).astype(np.uint8)
    assert check(dark).problem == Reason.DARK


def test_it_reads_a_lit_night_road_with_a_night_flag():
    lit = check(render_scene(640, 360, dt.datetime(2026, 1, 1, 23, 0)))
    assert (lit.problem, lit.is_night, lit.lit) == (None, True, True)


def test_it_reads_the_demo_road_by_day():
    assert check(render_scene(640, 360, dt.datetime(2026, 1, 1, 12, 0))).ok


@pytest.mark.parametrize("hour", [12, 7, 17])
def test_it_reads_the_snowy_demo_road(hour):
    snowy = render_scene(640, 360, dt.datetime(2026, 1, 1, hour, 0), snow=True)
    assert check(snowy).ok


def test_it_passes_every_clear_motorway_frame():
    refused = [
        (path.name, check(read_image(path)).problem)
        for path, label in frames()
        if label == "dry" and not check(read_image(path)).ok
    ]
    assert refused == []


def test_the_decision_carries_the_reason():
    decision = read_file_image(colour_bars()).decision
    assert (decision.state, decision.reason, decision.level) == (
        State.UNKNOWN,
        Reason.TEST_PATTERN,
        "",
    )
