"""The picture's measurements, on real photos and on scenes built to hold one trap each."""

from __future__ import annotations

import cv2
import numpy as np

from analytics.condition import Condition, Level, Thresholds, classify
from analytics.road import detect_road, polygon_mask
from tests.analytics.conftest import image, read_image

DRY = "webscraped/highway_mostly_dry/highway_mostly_dry_003.jpg"
SNOWY = "webscraped/snowy/snowy_002.jpg"
# No ice photo exists in the test data. This is a rain-glossy paved path with mirror-like sky
# reflections and no snow: the look of a wet, at −3 °C possibly glazed, surface.
GLOSSY = "webscraped/rainy_wet/rainy_wet_061.jpg"


def analyze(relative: str, thresholds: Thresholds | None = None) -> Condition:
    frame = read_image(image(relative))
    road = detect_road(frame)
    mask = polygon_mask(road.polygon, frame.shape[1], frame.shape[0])
    return classify(frame, mask, thresholds or Thresholds())


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


def test_it_finds_no_snow_on_a_dry_asphalt_road():
    result = analyze(DRY)
    assert result.snow_coverage < 0.05


def test_it_measures_a_snow_covered_road_as_snow_white():
    result = analyze(SNOWY)
    assert result.level in (Level.MODERATE, Level.HEAVY)
    assert result.snow_coverage > 0.5
    assert result.pale_coverage >= result.snow_coverage


def test_it_uses_the_thresholds_it_is_given():
    assert analyze(SNOWY, Thresholds(heavy=0.95)).level == Level.MODERATE


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


def test_it_sees_paint_much_whiter_than_a_pale_concrete_surface():
    """Concrete reflects about a third of the light, paint and snow about 80 %: on concrete
    the paint stands out, on snow nothing on the road is much whiter."""
    concrete, mask = road_scene(grey=150)
    snow, _ = road_scene(grey=225)
    for frame in (concrete, snow):
        for x in (200, 320, 440):
            cv2.line(frame, (x, 130), (x + (x - 320) // 2, 359), (252, 252, 252), 8)
    on_concrete, on_snow = classify(concrete, mask), classify(snow, mask)
    assert on_concrete.pale_coverage > 0.5
    assert on_concrete.whiter_ratio >= 1.4 > on_snow.whiter_ratio


def test_it_measures_green_vegetation_in_view():
    frame, mask = road_scene()
    assert classify(frame, mask).vegetation > 0.3
    snowy_verges = frame.copy()
    snowy_verges[~mask & (np.arange(frame.shape[0])[:, None] > 120)] = (240, 240, 240)
    assert classify(snowy_verges, mask).vegetation < 0.05


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


def test_it_has_no_confidence_without_road():
    frame, _ = road_scene()
    result = classify(frame, np.zeros((36, 64), bool))
    assert (result.road_pixels, result.confidence) == (0, 0.0)


def test_a_glossy_road_is_glossier_than_a_dry_one():
    assert analyze(GLOSSY).wetness > analyze(DRY).wetness
