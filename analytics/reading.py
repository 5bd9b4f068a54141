"""One call from a decoded picture to a decided road state: quality, measurements, decision.

The service (stored frames, with weather history and the learned road), `analyze_image`
(files, with weather given on the command line) and the benchmark all go through here, so
they decide alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analytics import quality
from analytics.condition import Condition, Thresholds, classify
from analytics.decision import Decision, ReferenceComparison, decide, unknown
from analytics.evidence import WeatherEvidence
from analytics.road import detect_road, polygon_mask


@dataclass(frozen=True)
class Reading:
    decision: Decision
    picture: Condition | None
    quality: quality.Quality


def read(
    image: np.ndarray | None,
    road_mask: np.ndarray | None,
    weather: WeatherEvidence | None = None,
    thresholds: Thresholds | None = None,
    compare: Callable[[Condition, quality.Quality], ReferenceComparison | None] | None = None,
    road_known: bool = True,
) -> Reading:
    """Decide the road's state in `image` (BGR). `compare` measures it against the camera's
    learned bare road, when there is one."""
    t = thresholds or Thresholds()
    checked = quality.check(image, road_mask)
    if image is None or not checked.ok:
        return Reading(unknown(str(checked.problem)), None, checked)
    picture = classify(image, road_mask, t)
    reference = compare(picture, checked) if compare else None
    decision = decide(checked, picture, weather or WeatherEvidence(), t, reference, road_known)
    return Reading(decision, picture, checked)


def read_file_image(image: np.ndarray | None, weather: WeatherEvidence | None = None) -> Reading:
    """A picture on its own: the road is detected from it alone (no camera, no history)."""
    if image is None or image.ndim != 3:
        return read(None, None, weather)
    mask = polygon_mask(detect_road(image).polygon, image.shape[1], image.shape[0])
    return read(image, mask, weather, road_known=False)
