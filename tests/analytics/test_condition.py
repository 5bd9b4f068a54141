"""The classifier on real photos and on scenes built to hold one trap each."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from analytics.condition import Condition, Level, Thresholds, classify
from analytics.road import detect_road, polygon_mask
from tests.analytics.conftest import image, read_image

DRY = "webscraped/highway_mostly_dry/highway_mostly_dry_003.jpg"
SNOWY = "webscraped/snowy/snowy_002.jpg"
# No ice photo exists in the test data. This is a rain-glossy paved path with mirror-like sky
# reflections and no snow: the look of a wet, at −3 °C possibly glazed, surface.
GLOSSY = "webscraped/rainy_wet/rainy_wet_061.jpg"


def analyze(
    relative: str, temperature_c: float | None = None, thresholds: Thresholds | None = None
) -> Condition:
    frame = read_image(image(relative))
    road = detect_road(frame)
    mask = polygon_mask(road.polygon, frame.shape[1], frame.shape[0])
    return classify(frame, mask, temperature_c, thresholds or Thresholds())


def road_scene(
    height: int = 360, width: int = 640, grey: int = 95
) -> tuple[np.ndarray, np.ndarray]:
    """Asphalt with fine grain over the lower two thirds, grass at the sides, sky on top."""
    rng = np.random.default_rng(1)
    frame = np.zeros((height, width, 3), np.uint8)
    frame[: height // 3] = (235, 200, 160)
    frame[height // 3 :] = (40, 120, 50)
    road = np.array([[0.35, 0.34], [0.65, 0.34], [0.95, 1.0], [0.05, 1.0]])
    mask = polygon_mask([tuple(p) for p in road], width, height)
    grain = rng.normal(0, 6, (height, width, 1))
    frame[mask] = np.clip(grey + grain[mask], 0, 255).astype(np.uint8)
    return frame, mask


def test_it_calls_a_dry_road_clear():
    assert analyze(DRY).level == Level.CLEAR


def test_it_calls_a_snow_covered_road_snowy():
    result = analyze(SNOWY)
    assert result.level in (Level.LIGHT, Level.MODERATE, Level.HEAVY)
    assert result.snow_coverage > 0.5


def test_it_says_ice_possible_on_a_glossy_road_at_minus_three():
    assert analyze(GLOSSY, temperature_c=-3).level == Level.ICE_POSSIBLE


def test_it_does_not_say_ice_possible_on_a_dry_road_at_minus_three():
    assert analyze(DRY, temperature_c=-3).level == Level.CLEAR


def test_it_never_says_ice_possible_without_a_temperature():
    result = analyze(GLOSSY, temperature_c=None)
    assert result.wetness > 0.45
    assert (result.level, result.ice_likelihood) == (Level.CLEAR, 0.0)


def test_it_never_says_ice_possible_above_freezing():
    assert analyze(GLOSSY, temperature_c=4).level == Level.CLEAR


def test_it_uses_the_thresholds_it_is_given():
    assert analyze(SNOWY, thresholds=Thresholds(heavy=0.95)).level == Level.MODERATE


def test_it_does_not_count_lane_paint_as_snow():
    frame, mask = road_scene()
    for x in (200, 320, 440):
        cv2.line(frame, (x, 130), (x + (x - 320) // 2, 359), (250, 250, 250), 4)
    result = classify(frame, mask)
    assert result.snow_coverage < 0.02, result


def test_it_does_not_count_a_white_car_as_snow():
    frame, mask = road_scene()
    cv2.rectangle(frame, (280, 230), (400, 320), (245, 245, 245), -1)
    cv2.rectangle(frame, (280, 230), (400, 320), (20, 20, 20), 3)
    cv2.rectangle(frame, (300, 240), (380, 270), (30, 30, 30), -1)
    assert classify(frame, mask).snow_coverage < 0.02


def test_it_removes_a_passing_car_with_several_frames():
    frames = []
    for x in (60, 260, 460):
        frame, mask = road_scene()
        cv2.rectangle(frame, (x, 220), (x + 160, 330), (245, 245, 245), -1)
        frames.append(frame)
    assert classify(frames, mask).snow_coverage == 0.0


def test_it_counts_a_snow_cover_on_the_road():
    frame, mask = road_scene()
    cv2.ellipse(frame, (320, 300), (220, 50), 0, 0, 360, (238, 240, 242), -1)
    frame = cv2.GaussianBlur(frame, (9, 9), 0)
    result = classify(frame, mask)
    assert result.level in (Level.MODERATE, Level.HEAVY), result


def test_it_gives_no_heavy_from_headlight_glare_at_night():
    frame, mask = road_scene(grey=25)
    frame[: frame.shape[0] // 3] = (15, 10, 10)
    frame[mask == 0] //= 4
    for x in (250, 390):
        cv2.circle(frame, (x, 250), 28, (255, 255, 255), -1)
    result = classify(frame, mask)
    assert result.is_night
    assert result.level == Level.CLEAR
    assert result.confidence < 0.6


def test_it_classifies_a_720p_frame_within_30_ms():
    frame, mask = road_scene(720, 1280)
    classify(frame, mask)
    start = time.perf_counter()
    for _ in range(5):
        classify(frame, mask)
    assert (time.perf_counter() - start) / 5 < 0.030


@pytest.mark.parametrize("mask", [np.zeros((36, 64), bool)])
def test_it_has_no_confidence_without_road(mask):
    frame, _ = road_scene()
    result = classify(frame, mask)
    assert (result.road_pixels, result.confidence) == (0, 0.0)
