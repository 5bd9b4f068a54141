"""Each camera's bare road, learned from its own frames, per light (day, dawn/dusk, lit night).

A fixed camera sees the same road all year, so the best witness of snow or water on it is the
same road when it was bare and dry. While the weather says dry and above freezing
(`WeatherEvidence.dry_and_mild`) and the picture shows a bare road, each analysed frame
updates a running mean of:

- the road's brightness (median, 0–1),
- its gloss (`Condition.wetness`),
- where the road shows lane paint (thin lines brighter than the surface around them: a small
  map of how often each cell did), and how much of it a dry frame shows (traffic hides some).

A new frame is compared with the reference of its light: snow brightens the road and hides
the markings (`snow_score`), water darkens it and makes it glossier (`wet_score`). Both are
0–1; `analytics.decision` reads them. The running mean weighs the last `WINDOW` samples, so
the reference follows slow changes (resurfacing, a new lens) without forgetting at once.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import cv2
import numpy as np
from django.utils import timezone

from analytics.condition import Condition, ramp
from analytics.decision import ReferenceComparison
from analytics.kinds import MIN_SAMPLES, Light
from analytics.models import RoadReference

MAP_WIDTH = 160
LINE_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
LINE_CONTRAST = 18
WINDOW = 200
# A map cell "has a marking" when at least this share of dry frames had an edge there.
PERSISTENT = 0.5
MIN_MARKING_CELLS = 15
# Sun elevations (degrees) that separate day, dawn/dusk and night.
DAY_ABOVE, NIGHT_BELOW = 6.0, -6.0


@dataclass
class Profile:
    """The learned bare road of one camera in one light."""

    samples: int
    brightness: float
    wetness: float
    marking_visibility: float
    edge_map: np.ndarray  # float32, share of dry frames with an edge in each cell

    def update(self, frame: FrameFeatures, picture: Condition) -> None:
        weight = 1.0 / min(self.samples + 1, WINDOW)
        if self.edge_map.shape != frame.edges.shape:
            self.edge_map = frame.edges.astype(np.float32)
        else:
            self.edge_map += weight * (frame.edges - self.edge_map)
        visible = marking_visibility(self.edge_map, frame.edges)
        if visible is not None:
            self.marking_visibility += weight * (visible - self.marking_visibility)
        self.brightness += weight * (picture.road_brightness - self.brightness)
        self.wetness += weight * (picture.wetness - self.wetness)
        self.samples += 1

    @classmethod
    def first(cls, frame: FrameFeatures, picture: Condition) -> Profile:
        return cls(1, picture.road_brightness, picture.wetness, 0.8, frame.edges.astype(np.float32))

    def compare(self, frame: FrameFeatures, picture: Condition) -> ReferenceComparison | None:
        if self.samples < MIN_SAMPLES or self.edge_map.shape != frame.edges.shape:
            return None
        ratio = picture.road_brightness / max(self.brightness, 0.02)
        visible = marking_visibility(self.edge_map, frame.edges)
        hidden = 0.0
        if visible is not None and self.marking_visibility > 0.05:
            hidden = ramp(1.0 - visible / self.marking_visibility, 0.3, 0.7)
        brighter = ramp(ratio, 1.1, 1.5)
        # Snow needs the road brighter *and* its markings gone: a sunny day only brightens.
        snow = math.sqrt(brighter * hidden) if visible is not None else brighter * 0.5
        darker = ramp(1.0 - ratio, 0.08, 0.25)
        glossier = ramp(picture.wetness - self.wetness, 0.05, 0.3)
        return ReferenceComparison(
            samples=self.samples,
            snow_score=round(snow, 3),
            wet_score=round(min(1.0, 0.7 * darker + 0.3 * glossier + 0.3 * darker * glossier), 3),
            marking_visibility=None if visible is None else round(visible, 3),
            brightness_ratio=round(ratio, 3),
        )


def load(row: RoadReference) -> Profile:
    shape = (row.map_height, row.map_width)
    edges = np.frombuffer(bytes(row.edge_map), dtype=np.float16).astype(np.float32)
    edge_map = edges.reshape(shape) if edges.size == shape[0] * shape[1] else np.zeros(shape)
    return Profile(row.samples, row.brightness, row.wetness, row.marking_visibility, edge_map)


def keep(row: RoadReference, profile: Profile) -> None:
    """Copy the profile onto its row (saved by the caller); the map as float16 bytes."""
    row.samples = profile.samples
    row.brightness = float(np.clip(profile.brightness, 0, 1))
    row.wetness = float(np.clip(profile.wetness, 0, 1))
    row.marking_visibility = float(np.clip(profile.marking_visibility, 0, 1))
    row.map_height, row.map_width = profile.edge_map.shape
    row.edge_map = profile.edge_map.astype(np.float16).tobytes()
    row.updated_at = timezone.now()


@dataclass(frozen=True)
class FrameFeatures:
    """What a frame contributes to the reference: where its road shows paint, at MAP_WIDTH."""

    edges: np.ndarray


def frame_features(image: np.ndarray, road_mask: np.ndarray) -> FrameFeatures:
    h, w = image.shape[:2]
    size = (MAP_WIDTH, max(1, round(h * MAP_WIDTH / w)))
    gray = cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    # Lane paint: thin lines brighter than the surface around them. Snow covers the paint,
    # and beside snow nothing is much brighter, so the lines vanish.
    lines = cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, LINE_KERNEL) >= LINE_CONTRAST
    road = cv2.resize(road_mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return FrameFeatures((lines & road).astype(np.float32))


def marking_visibility(edge_map: np.ndarray, edges: np.ndarray) -> float | None:
    """Share of the cells that usually show paint that show it now (one cell of tolerance)."""
    persistent = edge_map >= PERSISTENT
    if int(np.count_nonzero(persistent)) < MIN_MARKING_CELLS:
        return None
    near = cv2.dilate(edges.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return float(np.count_nonzero(near & persistent)) / float(np.count_nonzero(persistent))


def light_at(when: dt.datetime, lat: float | None, lon: float | None, is_night: bool) -> str:
    """Day, dawn/dusk or night from the sun's elevation where the camera's place is known,
    else from the picture's brightness (night or day only)."""
    if lat is None or lon is None:
        return Light.NIGHT if is_night else Light.DAY
    elevation = sun_elevation(when, lat, lon)
    if elevation >= DAY_ABOVE:
        return Light.DAY
    return Light.TWILIGHT if elevation > NIGHT_BELOW else Light.NIGHT


def sun_elevation(when: dt.datetime, lat: float, lon: float) -> float:
    """The sun's elevation in degrees (NOAA's low-precision formulas, within ~0.5°)."""
    utc = when.astimezone(dt.UTC)
    day = utc.timetuple().tm_yday
    hours = utc.hour + utc.minute / 60 + utc.second / 3600
    gamma = 2 * math.pi / 365 * (day - 1 + (hours - 12) / 24)
    declination = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
    )
    equation_of_time = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    solar_minutes = hours * 60 + equation_of_time + 4 * lon
    hour_angle = math.radians(solar_minutes / 4 - 180)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return 90.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))
