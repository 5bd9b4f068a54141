"""Real road frames and measures of what a mask left of them."""

from __future__ import annotations

from collections.abc import Iterator

import av
import cv2
import numpy as np
import pytest

from tests.conftest import testdata

CLIP = "videos/highway_overpass_720p.mp4"


def clip_jpegs(count: int, step: int = 20) -> list[bytes]:
    """`count` frames of the shared highway clip (1280×720, a fixed camera over a motorway)
    as a camera would send them: JPEG, quality 90."""
    found: list[bytes] = []
    with av.open(str(testdata(CLIP))) as container:
        frames: Iterator[av.VideoFrame] = container.decode(video=0)
        for i, frame in enumerate(frames):
            if i % step == 0:
                bgr = frame.to_ndarray(format="bgr24")
                found.append(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
            if len(found) == count:
                break
    return found


@pytest.fixture(scope="session")
def road_jpegs() -> list[bytes]:
    return clip_jpegs(5)


def decode_jpeg(data: bytes) -> np.ndarray:
    """RGB, as PIL and PyAV give the other outputs."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def box(image: np.ndarray, rect: tuple[float, float, float, float], inset: int) -> np.ndarray:
    """The pixels of a rectangle given in fractions of the frame, `inset` pixels in from its
    edges (where a mask meets the picture, JPEG and video blocks mix the two)."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = rect
    return image[
        round(y0 * (height - 1)) + inset : round(y1 * (height - 1)) - inset,
        round(x0 * (width - 1)) + inset : round(x1 * (width - 1)) - inset,
    ]


def detail(pixels: np.ndarray) -> float:
    """High-frequency energy: the mean difference between the grey picture and itself
    slightly blurred. Edges, texture and text (what identifies) have it; a blur does not."""
    grey = cv2.cvtColor(np.ascontiguousarray(pixels, np.uint8), cv2.COLOR_RGB2GRAY).astype(
        np.float32
    )
    return float(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.5)).mean())
