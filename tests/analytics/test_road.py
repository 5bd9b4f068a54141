"""Road detection on built scenes: colour from the bottom centre, and traffic motion."""

from __future__ import annotations

import cv2
import numpy as np

from analytics import road
from analytics.road import FALLBACK_POLYGON, detect_road, polygon_mask

ROAD = np.array([[280, 150], [360, 150], [620, 359], [20, 359]])


def scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[:120] = (230, 190, 150)
    frame[120:] = (50, 120, 60)
    cv2.fillPoly(frame, [ROAD], (95, 95, 95))
    return np.clip(frame + rng.normal(0, 4, frame.shape), 0, 255).astype(np.uint8)


def iou(polygon) -> float:
    found = polygon_mask(polygon, 640, 360)
    truth = np.zeros((360, 640), np.uint8)
    cv2.fillPoly(truth, [ROAD], 1)
    on_road = truth > 0
    return np.count_nonzero(found & on_road) / np.count_nonzero(found | on_road)


def test_it_finds_the_road_from_one_frame():
    road = detect_road(scene())
    assert road.method == "colour"
    assert iou(road.polygon) > 0.8


def test_it_adds_where_traffic_moves_with_several_frames():
    frames = []
    for i, x in enumerate((60, 200, 340, 480)):
        frame = scene(i)
        # A bus lane in another colour, only recognisable by the traffic on it.
        cv2.rectangle(frame, (0, 300), (639, 359), (40, 40, 160), -1)
        cv2.rectangle(frame, (x, 305), (x + 90, 355), (200, 200, 30), -1)
        frames.append(frame)
    road = detect_road(frames)
    assert road.method == "colour+motion"
    lane = polygon_mask(road.polygon, 640, 360)[330, 100:540]
    assert lane.mean() > 0.8


def test_it_falls_back_when_the_road_region_is_implausibly_small(monkeypatch):
    monkeypatch.setattr(road, "_seeded_region", lambda mask: np.zeros(mask.shape, bool))
    found = detect_road(scene())
    assert (found.polygon, found.method) == (FALLBACK_POLYGON, "fallback")
