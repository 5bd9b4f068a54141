"""What the picture shows of the road surface inside the road mask: measurements, not verdicts.

The method is deliberately explainable, so an operator can tell why a frame got its state:

1. Work on a small copy (320 px wide): the features are regional, and it keeps a 1280×720
   frame well under 15 ms. Several frames of a still camera are merged by a per-pixel median
   first, which removes vehicles that pass through.
2. Grey-world white balance, so snow under orange street lights or in blue shade is still
   "white" (low saturation) while grey asphalt stays grey.
3. **Snow-white** pixels are bright relative to the scene, low in saturation and smooth.
   **Pale** pixels pass a looser test (packed snow with tyre tracks, slush, and also pale
   concrete): the picture alone cannot tell those apart, so pale surface is reported on its
   own and the decision (`analytics.decision`) asks the weather and the camera's learned bare
   road before calling it snow.
4. Lane paint is removed by a morphological opening (paint is thinner than the kernel),
   white vehicles by dropping compact blobs whose outline is a strong edge (snow fades out),
   and headlight glare by dropping small saturated blobs.
5. Three signs that a pale road is pavement and not snow, each with a physical reason:
   - paint or vehicles far *brighter* than the pale surface around them: nothing on a road
     is much whiter than snow;
   - green vegetation in the scene: snow that lies on a road lies on the verges too;
   - a surface clipped to white by the exposure, which no longer shows what it is.
6. Wetness comes from the signs of a glossy surface: mirror-like reflections (large-scale
   brightness variation over little fine texture), specular highlights, and pavement darker
   than the rest of the scene. On single photos it is weak evidence (measured in
   `bench/analytics.py`); the camera's learned dry road makes it strong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from analytics.kinds import Level, Thresholds

WORK_WIDTH = 320
# Lane paint near the camera is at most ~20 px wide at 1280 px, i.e. ~5 px here.
PAINT_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
# Paint is fringed by a few pixels too rough for the pale test: "near" reaches past them.
NEAR_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))
# Rows above this fraction of the height are sky or distance in a road camera's view.
GROUND_FROM = 0.35


@dataclass(frozen=True)
class Condition:
    """Measurements of one picture's road. Fractions are of the road's pixels."""

    level: str
    snow_coverage: float
    pale_coverage: float
    wetness: float
    brightness: float
    confidence: float
    is_night: bool
    road_pixels: int
    # Signs that a pale road is pavement (see the module docstring, point 5).
    whiter_ratio: float = 0.0
    vegetation: float = 0.0
    clipped: float = 0.0
    glare: float = 0.0
    road_brightness: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Scene:
    """The small, white-balanced working copy and the per-pixel maps the features share."""

    bgr: np.ndarray
    hsv: np.ndarray
    gray: np.ndarray
    texture: np.ndarray
    road: np.ndarray
    scale: float


def classify(
    frames: np.ndarray | Sequence[np.ndarray],
    road_mask: np.ndarray | None = None,
    thresholds: Thresholds | None = None,
) -> Condition:
    """Measure the road in `frames` (BGR, one array or a list of the same camera's frames).

    `road_mask` is any-size, non-zero on the road; None means the whole frame.
    """
    t = thresholds or Thresholds()
    scene = prepare(frames, road_mask)
    road_count = int(np.count_nonzero(scene.road))
    brightness = float(scene.hsv[..., 2].mean()) / 255.0
    is_night = brightness < t.night_brightness
    if road_count == 0:
        return Condition(Level.CLEAR, 0.0, 0.0, 0.0, brightness, 0.0, is_night, 0)
    snow, pale, glare = _snow_masks(scene, t)
    coverage = float(np.count_nonzero(snow)) / road_count
    pale_coverage = float(np.count_nonzero(pale)) / road_count
    glare_fraction = float(np.count_nonzero(glare & scene.road)) / road_count
    return Condition(
        level=coverage_level(coverage, t, is_night and glare_fraction > 0.02),
        snow_coverage=round(coverage, 4),
        pale_coverage=round(pale_coverage, 4),
        wetness=round(_wetness(scene, snow | pale), 4),
        brightness=round(brightness, 4),
        confidence=round(_confidence(scene, road_count, is_night, glare_fraction), 4),
        is_night=is_night,
        road_pixels=round(road_count * scene.scale * scene.scale),
        whiter_ratio=round(_whiter_than_surface(scene, pale, glare if is_night else None), 4),
        vegetation=round(_vegetation(scene), 4),
        clipped=round(_clipped(scene, pale), 4),
        glare=round(glare_fraction, 4),
        road_brightness=round(float(np.median(scene.hsv[..., 2][scene.road])) / 255.0, 4),
    )


def coverage_level(coverage: float, t: Thresholds, glare_at_night: bool = False) -> str:
    level = Level.CLEAR
    if coverage >= t.heavy:
        level = Level.HEAVY
    elif coverage >= t.moderate:
        level = Level.MODERATE
    elif coverage >= t.light:
        level = Level.LIGHT
    if level == Level.HEAVY and glare_at_night:
        # Lit night scenes over-expose; with glare on the road, Heavy is not trustworthy.
        return Level.MODERATE
    return level


def prepare(frames: np.ndarray | Sequence[np.ndarray], road_mask: np.ndarray | None) -> _Scene:
    stack = [frames] if isinstance(frames, np.ndarray) else list(frames)
    h, w = stack[0].shape[:2]
    scale = w / WORK_WIDTH
    size = (WORK_WIDTH, max(1, round(h / scale)))
    small = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in stack]
    bgr = small[0] if len(small) == 1 else np.median(np.stack(small), axis=0).astype(np.uint8)
    bgr = grey_world(bgr)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    if road_mask is None:
        road = np.ones(gray.shape, dtype=bool)
    else:
        road = cv2.resize(road_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return _Scene(
        bgr=bgr,
        hsv=cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV),
        gray=gray,
        texture=local_std(gray, 5),
        road=road,
        scale=scale,
    )


def grey_world(bgr: np.ndarray) -> np.ndarray:
    """Scale channels so the scene's near-neutral surfaces average to grey.

    Estimating on all pixels would tint snow magenta in a green landscape; the fairly
    unsaturated ones on the ground (road, snow, concrete) carry the colour of the light.
    Gains are capped, so a scene that is truly one colour is not turned grey.
    """
    # The ground only: a blue sky would otherwise make white snow look yellow. Every other
    # pixel of it is plenty for three averages.
    ground = np.ascontiguousarray(bgr[bgr.shape[0] // 3 :: 2, ::2])
    high = ground.max(axis=2).astype(np.int16)
    low = ground.min(axis=2).astype(np.int16)
    unclipped = high < 250
    usable = unclipped & (4 * (high - low) < high + 4)
    if np.count_nonzero(usable) < 0.05 * usable.size:
        usable = unclipped
    if np.count_nonzero(usable) < 25:
        return bgr
    means = np.array(cv2.mean(ground, mask=usable.astype(np.uint8))[:3]) + 1e-3
    gains = np.clip(means.mean() / means, 0.75, 1.4)
    return np.asarray(cv2.transform(bgr, np.diag(gains)), np.uint8)


def local_std(gray: np.ndarray, size: int) -> np.ndarray:
    g = gray.astype(np.float32)
    mean = cv2.blur(g, (size, size))
    sq = cv2.blur(g * g, (size, size))
    return np.sqrt(np.maximum(sq - mean * mean, 0))


def _neutral(scene: _Scene, t: Thresholds) -> np.ndarray:
    hue, sat = scene.hsv[..., 0], scene.hsv[..., 1]
    # Snow in shade reflects the blue sky: allow more saturation for blue hues.
    sat_max = np.where((hue >= 90) & (hue <= 130), 2 * t.snow_max_saturation, t.snow_max_saturation)
    return sat <= sat_max


def _white(scene: _Scene, t: Thresholds, pale: bool = False) -> np.ndarray:
    """Snow-white pixels, or with `pale` the looser test that packed snow also passes."""
    val = scene.hsv[..., 2]
    reference = _reference_brightness(val)
    if pale:
        v_min, texture = (
            max(0.8 * t.snow_min_value, t.pale_relative_value * reference),
            t.pale_max_texture,
        )
    else:
        v_min, texture = (
            max(t.snow_min_value, t.snow_relative_value * reference),
            t.snow_max_texture,
        )
    return _neutral(scene, t) & (val >= v_min) & (scene.texture <= texture)


def _snow_masks(scene: _Scene, t: Thresholds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Road pixels that are snow-white, those that are at least pale, and refused glare."""
    white = _white(scene, t) & scene.road
    pale = _white(scene, t, pale=True) & scene.road
    glare = _glare(scene)
    cleaned = []
    for mask in (white, pale):
        # Opening removes structures thinner than the kernel: lane paint, kerbs, cables.
        opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, PAINT_KERNEL)
        opened[glare] = 0
        cleaned.append(_drop_vehicles(opened, scene))
    return cleaned[0], cleaned[0] | cleaned[1], glare


def _reference_brightness(val: np.ndarray) -> float:
    """How bright snow would be in this exposure: like the sky, or the brightest ground.

    Snow reflects about as much light as an overcast sky sends; concrete a third of it. The
    sky is the top strip when it is bright; under trees the bright end of the ground stands in.
    """
    h = val.shape[0]
    sky = float(np.median(val[: max(1, h // 8)]))
    ground = float(np.percentile(val[h // 4 :], 95))
    return max(sky, ground)


def _glare(scene: _Scene) -> np.ndarray:
    """Small saturated blobs: headlights, street lamps and their halos on the road."""
    hot = (scene.hsv[..., 2] >= 245).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hot, connectivity=8)
    limit = 0.01 * hot.size
    small = np.zeros(count, dtype=bool)
    small[1:] = stats[1:, cv2.CC_STAT_AREA] < limit
    glare = small[labels]
    # Their halo: a few pixels around each blob are over-exposed as well.
    return cv2.dilate(glare.astype(np.uint8), PAINT_KERNEL, iterations=2) > 0


def _drop_vehicles(candidates: np.ndarray, scene: _Scene) -> np.ndarray:
    """Remove compact blobs with a strong edge all round (vehicles); snow edges fade out."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    if count <= 1:
        return candidates.astype(bool)
    # Widened a little so a 1-px edge line can fill the few-pixel ring round a blob.
    edges = cv2.dilate(cv2.Canny(scene.gray, 60, 150), np.ones((3, 3), np.uint8)) > 0
    keep = np.zeros(count, dtype=bool)
    min_area = max(4, int(0.002 * np.count_nonzero(scene.road)))
    max_vehicle = 0.06 * candidates.size
    for i in range(1, count):
        area = stats[i, cv2.CC_STAT_AREA]
        if area < min_area:
            continue
        keep[i] = area > max_vehicle or not _is_vehicle(labels, stats[i], i, edges)
    return keep[labels]


def _is_vehicle(labels: np.ndarray, stat: np.ndarray, index: int, edges: np.ndarray) -> bool:
    x, y, w, h = (int(v) for v in stat[:4])
    fill = stat[cv2.CC_STAT_AREA] / max(1, w * h)
    aspect = max(w, h) / max(1, min(w, h))
    if fill < 0.5 or aspect > 3.5:
        return False
    pad = 3
    y0, y1, x0, x1 = max(0, y - pad), y + h + pad, max(0, x - pad), x + w + pad
    blob = (labels[y0:y1, x0:x1] == index).astype(np.uint8)
    ring = cv2.dilate(blob, PAINT_KERNEL) - cv2.erode(blob, PAINT_KERNEL)
    ring_count = int(np.count_nonzero(ring))
    strong = int(np.count_nonzero(edges[y0:y1, x0:x1] & (ring > 0)))
    return ring_count > 0 and strong / ring_count > 0.25


def _whiter_than_surface(scene: _Scene, pale: np.ndarray, glare: np.ndarray | None) -> float:
    """How much brighter the brightest neutral things on and next to the pale surface are
    (paint, white vehicles), as a ratio of the surface's own brightness.

    Snow reflects about 80 % of the light, as much as white paint or a white car: beside snow
    they are at most a little brighter. Pixel values follow reflectance to the power ~0.45
    (sRGB), so a ratio of 1.4 means a surface reflecting under 40 %: concrete, not snow."""
    count = int(np.count_nonzero(pale))
    if count < 20:
        return 0.0
    gray = scene.gray.astype(np.float32)
    near = cv2.dilate(pale.astype(np.uint8), NEAR_KERNEL) > 0
    # By day the small over-exposed blobs are paint and white roofs: exactly what is wanted.
    neutral = near & scene.road & (scene.hsv[..., 1] < 50)
    if glare is not None:
        neutral &= ~glare
    if np.count_nonzero(neutral) < 20:
        return 0.0
    surface = float(np.median(gray[pale])) + 1.0
    return float(np.percentile(gray[neutral], 99.5)) / surface


def _vegetation(scene: _Scene) -> float:
    """Fraction of the ground (below the sky) that is green leaves or grass."""
    ground = scene.hsv[int(GROUND_FROM * scene.hsv.shape[0]) :]
    hue, sat, val = ground[..., 0], ground[..., 1], ground[..., 2]
    green = (hue >= 30) & (hue <= 90) & (sat >= 40) & (val >= 30)
    return float(np.count_nonzero(green)) / max(1, green.size)


def _clipped(scene: _Scene, pale: np.ndarray) -> float:
    """Share of the pale surface that the exposure clipped to white."""
    count = int(np.count_nonzero(pale))
    if count == 0:
        return 0.0
    return float(np.count_nonzero(pale & (scene.hsv[..., 2] >= 250))) / count


def _wetness(scene: _Scene, snowy: np.ndarray) -> float:
    """0–1 from reflections, highlights and darkening of the bare part of the road."""
    bare = scene.road & ~snowy
    if np.count_nonzero(bare) < 50:
        return 0.0
    gray = scene.gray.astype(np.float32)
    broad = cv2.GaussianBlur(gray, (0, 0), 6)
    fine = float(np.median(scene.texture[bare]))
    # A mirror-like surface varies a lot at large scale but has little grain.
    gloss = float(np.std(broad[bare])) / (fine + 4.0)
    val = scene.hsv[..., 2]
    highlight = float(np.mean((val[bare] >= 200) & (scene.hsv[..., 1][bare] <= 60)))
    darkness = 1.0 - float(np.median(val[bare])) / (float(np.median(val)) + 1.0)
    score = 0.5 * ramp(gloss, 2.0, 6.0) + 0.3 * ramp(highlight, 0.01, 0.08)
    return float(np.clip(score + 0.2 * ramp(darkness, 0.0, 0.4), 0.0, 1.0))


def _confidence(scene: _Scene, road_count: int, is_night: bool, glare_fraction: float) -> float:
    """How well the picture shows the road: size of the road, contrast, light and glare."""
    base = 0.5 if is_night else 0.9
    size = ramp(road_count, 300, 3000)
    contrast = ramp(float(scene.gray.std()), 8.0, 30.0)
    return base * (0.4 + 0.6 * size) * (0.5 + 0.5 * contrast) * (1.0 - min(0.5, glare_fraction))


def ramp(value: float, low: float, high: float) -> float:
    """0 at `low`, 1 at `high`, linear between."""
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))
