"""Can this picture show the road at all? Checked before any surface is measured.

Each check has a plain reason, shown to the operator and in the API when the answer is
Unknown. Measured on a 320 px wide grey copy (the same scale the surface features use):

- too small or undecodable: nothing to measure;
- one colour: a lens cap, a blank stream;
- a test pattern or graphics: several large flat areas of strong, different colours, which
  no road scene has (sky and grass are two at most);
- a fogged, smeared or snow-covered lens: almost no edges anywhere, or most of the picture
  blurred while the rest is sharp;
- darkness: night, and the road itself unlit (no street lighting).

The thresholds were set on the 350 photos and frames in `../shared/testdata/road_images/`,
with margin: see `bench/analytics.py` for how many real frames each check refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from analytics.condition import WORK_WIDTH, grey_world, local_std

MIN_WIDTH, MIN_HEIGHT = 64, 48
MIN_STDDEV = 3.0
# Edge pixels per picture pixel below which nothing is in focus.
FOGGED_EDGES = 0.02
# Share of the picture's blocks with almost no edges, while the rest is sharp.
SMEARED_BLOCKS = 0.6
BLOCKS = (6, 8)
# Flat areas of strong colour: how large each, and how many different hues make graphics.
GRAPHIC_AREA = 0.04
GRAPHIC_HUES = 3
# Night: scene brightness below this; the road counts as lit when its brightest tenth
# reaches this value (of 255): lamps light pools, headlights only a few small spots.
NIGHT_BRIGHTNESS = 0.22
LIT_ROAD = 30


class Reason:
    """The plain words shown with an Unknown state (shared with analytics.decision)."""

    UNREADABLE = "picture could not be read"
    TOO_SMALL = "picture too small to show the road"
    BLANK = "picture is one colour: lens covered or stream blank"
    NO_ROAD = "no road in view"
    TEST_PATTERN = "no road in view: test pattern or graphics"
    FOGGED = "road not visible: lens fogged or obstructed"
    SMEARED = "road not visible: lens smeared, wet or snow-covered"
    DARK = "night without street lighting"


@dataclass(frozen=True)
class Quality:
    """`problem` is None when the picture can be read; `is_night` and `lit` describe the light."""

    problem: str | None
    is_night: bool = False
    lit: bool = True
    sharpness: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem is None


def check(image: np.ndarray | None, road_mask: np.ndarray | None = None) -> Quality:
    """The first problem that stops this picture from showing the road, if any."""
    if image is None or image.ndim != 3 or image.size == 0:
        return Quality(Reason.UNREADABLE)
    h, w = image.shape[:2]
    if w < MIN_WIDTH or h < MIN_HEIGHT:
        return Quality(Reason.TOO_SMALL)
    size = (WORK_WIDTH, max(1, round(h * WORK_WIDTH / w)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    if float(gray.std()) < MIN_STDDEV:
        return Quality(Reason.BLANK)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    if _is_graphic(hsv, gray):
        return Quality(Reason.TEST_PATTERN)
    is_night = float(hsv[..., 2].mean()) / 255.0 < NIGHT_BRIGHTNESS
    road = _road(road_mask, size)
    lit = _road_lit(hsv, road)
    if is_night and not lit:
        return Quality(Reason.DARK, is_night, lit)
    # Logos and time stamps sit in the top tenth of most camera pictures: leave them out.
    body = gray[int(0.1 * gray.shape[0]) :]
    edges = cv2.Canny(body, 40, 120) > 0
    sharpness = float(edges.mean())
    if not is_night:
        if sharpness < FOGGED_EDGES:
            return Quality(Reason.FOGGED, is_night, lit, sharpness)
        if _blurred_share(edges) >= SMEARED_BLOCKS:
            return Quality(Reason.SMEARED, is_night, lit, sharpness)
    if road is not None and not is_night and _colourful(small, road):
        return Quality(Reason.NO_ROAD, is_night, lit, sharpness)
    return Quality(None, is_night, lit, sharpness)


def _road(road_mask: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    if road_mask is None or not road_mask.any():
        return None
    return cv2.resize(road_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0


def _is_graphic(hsv: np.ndarray, gray: np.ndarray) -> bool:
    """Several large flat areas of strong, different colours: colour bars, a logo screen."""
    flat = (hsv[..., 1] >= 100) & (hsv[..., 2] >= 80) & (local_std(gray, 5) < 4)
    hues = hsv[..., 0][flat] // 30  # six bins of OpenCV's 0–180 hue
    counts = np.bincount(hues, minlength=6)
    return int(np.count_nonzero(counts >= GRAPHIC_AREA * gray.size)) >= GRAPHIC_HUES


def _road_lit(hsv: np.ndarray, road: np.ndarray | None) -> bool:
    val = hsv[..., 2]
    # Without a road region, the lower half of the picture stands in for it.
    values = val[road] if road is not None else val[val.shape[0] // 2 :]
    return values.size > 0 and float(np.percentile(values, 90)) >= LIT_ROAD


def _blurred_share(edges: np.ndarray) -> float:
    """Share of blocks with under a fifth of the edges of the sharp quarter of the blocks."""
    rows, cols = BLOCKS
    bh, bw = edges.shape[0] // rows, edges.shape[1] // cols
    if bh == 0 or bw == 0:
        return 0.0
    blocks = edges[: bh * rows, : bw * cols].reshape(rows, bh, cols, bw).mean(axis=(1, 3))
    sharp = float(np.percentile(blocks, 75))
    if sharp == 0:
        return 1.0
    return float(np.mean(blocks < 0.2 * sharp))


def _colourful(small: np.ndarray, road: np.ndarray) -> bool:
    """A road surface is grey or white (or brown gravel) under balanced light: a strongly
    coloured one is not a road. Balanced first, so sodium light or a dawn sky does not count."""
    balanced = cv2.cvtColor(grey_world(small), cv2.COLOR_BGR2HSV)
    return float(np.median(balanced[..., 1][road])) > 110
