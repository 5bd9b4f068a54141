"""Where the road is in a camera's picture.

Choice, and why: a traffic camera looks along or down onto a road, so the road is the large
surface connected to the bottom centre of the picture, of one fairly even colour (grey asphalt,
or white when snow-covered), below the horizon. We

1. merge the recent frames by a per-pixel median (vehicles vanish, the surface stays),
2. take the median Lab colour of a seed box at the bottom centre as "the road colour",
3. keep pixels close to that colour in the lower 60% of the picture (sky is often the
   same grey as asphalt on overcast days, and never road),
4. add, when several frames are given, the pixels that changed between them: on a fixed camera
   what moves is traffic, and traffic drives on the road, which finds the road even when the
   bottom centre is a verge,
5. keep the connected region that touches the seed, fill its holes (lane paint, a parked car),
   smooth it and trace its outline as a polygon.

If that region is implausibly small we fall back to a generous trapezoid so the condition
still has something to measure; the operator polygon in the admin overrides all of this.
Perspective line fitting was considered but adds little on the cameras we have and fails on
curved and snow-covered roads, where lane lines are not visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from analytics.kinds import Polygon

WORK_WIDTH = 160
# Above these fractions of the height there is sky or distance, not the road we measure; what
# moves may be higher up on a camera that looks down onto a street.
HORIZON = 0.4
MOTION_HORIZON = 0.15
MIN_COVERAGE = 0.03
# Used when detection finds nothing plausible: wider than the closed product's trapezoid.
FALLBACK_POLYGON: list[tuple[float, float]] = [(0.3, 0.5), (0.7, 0.5), (1.0, 1.0), (0.0, 1.0)]


@dataclass(frozen=True)
class RoadDetection:
    polygon: Polygon
    coverage: float
    contours: int
    method: str


def detect_road(frames: np.ndarray | Sequence[np.ndarray]) -> RoadDetection:
    """Detect the road region from one frame or several frames of the same camera."""
    stack = [frames] if isinstance(frames, np.ndarray) else list(frames)
    small = _downscale(stack)
    still = small[0] if len(small) == 1 else np.median(np.stack(small), axis=0).astype(np.uint8)
    mask = _colour_region(still)
    mask[: int(HORIZON * mask.shape[0]), :] = False
    method = "colour"
    if len(small) > 1:
        moved = _motion(small, still)
        moved[: int(MOTION_HORIZON * moved.shape[0]), :] = False
        mask |= moved
        method = "colour+motion"
    region = _seeded_region(mask)
    coverage = float(np.count_nonzero(region)) / region.size
    if coverage < MIN_COVERAGE:
        fallback = polygon_mask(FALLBACK_POLYGON, region.shape[1], region.shape[0])
        return RoadDetection(FALLBACK_POLYGON, _coverage(fallback), 1, "fallback")
    polygon, contours = _outline(region)
    return RoadDetection(polygon, round(coverage, 4), contours, method)


def polygon_mask(polygon: Polygon, width: int, height: int) -> np.ndarray:
    """A boolean mask of `width`×`height` that is True inside the normalised polygon."""
    mask = np.zeros((height, width), dtype=np.uint8)
    if len(polygon) >= 3:
        points = np.array([[x * (width - 1), y * (height - 1)] for x, y in polygon])
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return mask > 0


def contour_count(mask: np.ndarray) -> int:
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    return len(contours)


def _downscale(stack: list[np.ndarray]) -> list[np.ndarray]:
    h, w = stack[0].shape[:2]
    size = (WORK_WIDTH, max(1, round(h * WORK_WIDTH / w)))
    return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in stack]


def _seed_box(shape: tuple[int, ...]) -> tuple[slice, slice]:
    h, w = shape[:2]
    return slice(int(0.82 * h), int(0.97 * h)), slice(int(0.38 * w), int(0.62 * w))


def _colour_region(bgr: np.ndarray) -> np.ndarray:
    """Pixels whose colour is close to one of the seed's main colours.

    A partly snow-covered road has two surfaces in the seed (tracks and snow); one reference
    colour would cut the snow out of the road and hide exactly what we measure.
    """
    lab = cv2.cvtColor(cv2.GaussianBlur(bgr, (5, 5), 0), cv2.COLOR_BGR2LAB).astype(np.float32)
    rows, cols = _seed_box(lab.shape)
    seed = lab[rows, cols].reshape(-1, 3)
    # Lightness varies along a road (shade, wear) more than its colour does: weigh it less.
    weights = np.array([0.6, 1.0, 1.0], dtype=np.float32)
    region = np.zeros(lab.shape[:2], dtype=bool)
    for reference, members in _seed_colours(seed):
        spread = float(np.median(np.linalg.norm((members - reference) * weights, axis=1)))
        limit = float(np.clip(3.0 * spread, 14.0, 30.0))
        region |= np.linalg.norm((lab - reference) * weights, axis=2) < limit
    return region


def _seed_colours(seed: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The seed's one or two main surfaces, split by lightness when it is clearly bimodal."""
    lightness = seed[:, 0].astype(np.uint8).reshape(-1, 1)
    split, _ = cv2.threshold(lightness, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    dark, light = seed[seed[:, 0] <= split], seed[seed[:, 0] > split]
    groups = [g for g in (dark, light) if len(g) >= 0.2 * len(seed)]
    if len(groups) < 2 or abs(np.median(dark[:, 0]) - np.median(light[:, 0])) < 25:
        groups = [seed]
    return [(np.median(g, axis=0), g) for g in groups]


def _motion(small: list[np.ndarray], still: np.ndarray) -> np.ndarray:
    gray_still = cv2.cvtColor(still, cv2.COLOR_BGR2GRAY).astype(np.int16)
    moved = np.zeros(gray_still.shape, dtype=np.uint16)
    for frame in small:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.int16)
        moved += (np.abs(gray - gray_still) > 25).astype(np.uint16)
    # Seen moving in at least one frame, cleaned of sensor noise and camera shake speckle.
    mask = cv2.morphologyEx((moved > 0).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3)))
    return mask > 0


def _seeded_region(mask: np.ndarray) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    closed = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    opened = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, _, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    rows, cols = _seed_box(mask.shape)
    seed_labels = labels[rows, cols].ravel()
    seed_labels = seed_labels[seed_labels > 0]
    if count <= 1 or len(seed_labels) == 0:
        return np.zeros(mask.shape, dtype=bool)
    chosen = np.bincount(seed_labels).argmax()
    region = (labels == chosen).astype(np.uint8)
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(region)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled > 0


def _outline(region: np.ndarray) -> tuple[Polygon, int]:
    contours, _ = cv2.findContours(
        region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    largest = max(contours, key=cv2.contourArea)
    approx = cv2.approxPolyDP(largest, 0.01 * cv2.arcLength(largest, True), True)
    h, w = region.shape
    polygon = [
        (round(float(x) / (w - 1), 4), round(float(y) / (h - 1), 4)) for x, y in approx[:, 0]
    ]
    return polygon, len(contours)


def _coverage(mask: np.ndarray) -> float:
    return round(float(np.count_nonzero(mask)) / mask.size, 4)
