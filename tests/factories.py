"""Small builders for test data: real JPEGs, stored frames, scripted sources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import cv2
import numpy as np
from django.utils import timezone

from cameras.capture import store_frame
from cameras.models import Camera, CaptureNode, Frame
from cameras.sources import CaptureError, Grab
from cameras.sources.demo import DemoSource


def jpeg(width: int = 640, height: int = 360, seed: int = 0) -> bytes:
    """A camera-like picture: a gradient, a block that moves with the seed, mild sensor noise.
    (Pure noise is the worst case for every encoder and makes tests slow for nothing.)"""
    rng = np.random.default_rng(0)  # the same grain in every frame, as a still scene has
    ramp = np.linspace(40, 200, width, dtype=np.float32)
    pixels = np.repeat(np.repeat(ramp[None, :, None], height, axis=0), 3, axis=2)
    x = (seed * 37) % max(1, width - width // 4)
    pixels[height // 3 : height // 2, x : x + width // 4] = (200, 60, 30)
    pixels += rng.normal(0, 4, pixels.shape)
    ok, data = cv2.imencode(".jpg", np.clip(pixels, 0, 255).astype(np.uint8))
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

    deadline_s = 1.0

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


def live_worker(at: dt.datetime | None = None, name: str = "test-host:1") -> CaptureNode:
    """A worker whose capture service beat at `at` (now by default), as /health reads it."""
    now = at or timezone.now()
    node, _ = CaptureNode.objects.update_or_create(
        name=name, defaults={"started_at": now, "heartbeat_at": now, "cameras": 0}
    )
    return node


def fake_clock(at: dt.datetime) -> Callable[[], dt.datetime]:
    return lambda: at


def demo_day(
    camera: Camera, day: dt.date, spacing_min: int = 15, width: int = 320, height: int = 180
) -> list[Frame]:
    """The demo camera's frames of one local day, each rendered (lit by the local hour) and
    stored as capture stores them, at its own time: a day made with a fake clock."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=camera.tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=camera.tz)
    stored = []
    when = start
    while when < end:  # in UTC steps: a day the clocks change has 23 or 25 hours
        source = DemoSource(width, height, clock=fake_clock(when.astimezone(camera.tz)))
        stored.append(store_frame(camera, source.grab(), when))
        when += dt.timedelta(minutes=spacing_min)
    return stored
