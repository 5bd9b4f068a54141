"""The day strip: a camera's road across one day in a single image.

Each stored frame gives one column: the road region's bounding box squeezed to
`COLUMN_WIDTH`-ish pixels wide and `BAND_HEIGHT` high (each row of the column is the mean of
that row of the road), placed by the frame's local wall-clock time, one pixel per minute, so
snow (white), wet (dark, glossy) and dry (grey) periods, night and camera outages (the hatched
background) show at a glance. Below the band is an axis with hour ticks and the sunrise and
sunset marks; the band itself holds nothing but frame pixels.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from analytics.kinds import Polygon

MINUTES = 24 * 60
BAND_HEIGHT = 96
AXIS_HEIGHT = 22
# A frame's column spans the usual spacing between frames, up to this many minutes; a longer
# gap (camera offline) shows as background.
MAX_COLUMN_MINUTES = 30
NO_FRAME_GREY = (92, 92, 92)
NO_FRAME_HATCH = (128, 128, 128)
AXIS_BG = (24, 24, 24)
TICK = (200, 200, 200)
SUN = (255, 190, 40)  # RGB


def road_box(polygon: Polygon, width: int, height: int) -> tuple[int, int, int, int]:
    """The polygon's bounding box in pixels (x0, y0, x1, y1), at least 1×1; the whole frame
    when there is no polygon."""
    if len(polygon) < 3:
        return 0, 0, width, height
    xs = [x for x, _ in polygon]
    ys = [y for _, y in polygon]
    x0 = min(width - 1, max(0, int(min(xs) * width)))
    y0 = min(height - 1, max(0, int(min(ys) * height)))
    x1 = max(x0 + 1, min(width, int(np.ceil(max(xs) * width))))
    y1 = max(y0 + 1, min(height, int(np.ceil(max(ys) * height))))
    return x0, y0, x1, y1


def column(bgr: np.ndarray, polygon: Polygon, width: int) -> np.ndarray:
    """The road region of one frame as an RGB column `width` × BAND_HEIGHT."""
    x0, y0, x1, y1 = road_box(polygon, bgr.shape[1], bgr.shape[0])
    road = bgr[y0:y1, x0:x1]
    squeezed = cv2.resize(road, (width, BAND_HEIGHT), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(squeezed, cv2.COLOR_BGR2RGB)


def minute_of_day(local: dt.datetime) -> int:
    """Wall-clock minute: on the night clocks go back the repeated hour is drawn once (the
    later pass over it), and on the night they go forward its hour stays empty."""
    return local.hour * 60 + local.minute


def column_minutes(times: Sequence[dt.datetime]) -> int:
    """How wide each frame's column is: the median spacing between frames, in whole minutes
    (at least 1, at most MAX_COLUMN_MINUTES)."""
    if len(times) < 2:
        return 1
    gaps = sorted((b - a).total_seconds() / 60 for a, b in itertools.pairwise(times))
    median = gaps[len(gaps) // 2]
    return int(min(MAX_COLUMN_MINUTES, max(1, round(median))))


class DayStrip:
    """The band being painted, one frame at a time (a frame is released once painted)."""

    def __init__(self, column_width: int) -> None:
        self.column_width = column_width
        self.band = np.empty((BAND_HEIGHT, MINUTES, 3), dtype=np.uint8)
        self.band[:] = NO_FRAME_GREY
        hatch = (np.add.outer(np.arange(BAND_HEIGHT), np.arange(MINUTES)) % 8) < 2
        self.band[hatch] = NO_FRAME_HATCH
        self.columns = 0
        self.last_minute = -1

    def wants(self, local: dt.datetime) -> bool:
        """A camera faster than one frame a minute gives the strip its first frame of each
        minute; the rest are not decoded for it."""
        return minute_of_day(local) != self.last_minute

    def paint(self, bgr: np.ndarray, polygon: Polygon, local: dt.datetime) -> None:
        x = minute_of_day(local)
        width = min(self.column_width, MINUTES - x)
        self.band[:, x : x + width] = column(bgr, polygon, width)
        self.columns += 1
        self.last_minute = x

    def image(self, sunrise: dt.datetime | None, sunset: dt.datetime | None) -> Image.Image:
        """The band with its axis: a tick every hour (taller every 6 h, labelled), and the
        sunrise and sunset marked with their local times."""
        strip = Image.new("RGB", (MINUTES, BAND_HEIGHT + AXIS_HEIGHT), AXIS_BG)
        strip.paste(Image.fromarray(self.band), (0, 0))
        draw = ImageDraw.Draw(strip)
        font = ImageFont.load_default()
        top = BAND_HEIGHT
        for hour in range(24):
            x = hour * 60
            major = hour % 6 == 0
            draw.line([(x, top), (x, top + (8 if major else 4))], fill=TICK)
            if major:
                draw.text((x + 2, top + 8), f"{hour:02d}", fill=TICK, font=font)
        for label, when in (("sunrise", sunrise), ("sunset", sunset)):
            if when is None:
                continue
            x = minute_of_day(when)
            draw.line([(x, top), (x, top + AXIS_HEIGHT - 1)], fill=SUN, width=2)
            text = f"{label} {when:%H:%M}"
            anchor_x = x + 4 if label == "sunrise" else x - 4 - int(draw.textlength(text, font))
            draw.text((anchor_x, top + 8), text, fill=SUN, font=font)
        return strip
