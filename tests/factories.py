"""Small builders for test data: real JPEGs, stored frames, scripted sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import cv2
import numpy as np

from cameras.capture import store_frame
from cameras.models import Camera, Frame
from cameras.sources import CaptureError, Grab


def jpeg(width: int = 640, height: int = 360, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", pixels)
    assert ok
    return data.tobytes()


def grab(width: int = 640, height: int = 360, seed: int = 0) -> Grab:
    return Grab(jpeg=jpeg(width, height, seed), width=width, height=height)


def frames(camera: Camera, count: int, start: dt.datetime, spacing_s: float = 6) -> list[Frame]:
    return [
        store_frame(camera, grab(seed=i), start + dt.timedelta(seconds=i * spacing_s))
        for i in range(count)
    ]


class ScriptedSource:
    """A Source that returns, or raises, what it is given, in order."""

    def __init__(self, results: Iterable[Grab | CaptureError]) -> None:
        self.results = list(results)
        self.closed = False

    def grab(self) -> Grab:
        result = self.results.pop(0)
        if isinstance(result, CaptureError):
            raise result
        return result

    def close(self) -> None:
        self.closed = True
