"""Privacy masks on a decoded frame: operator-drawn regions blurred, pixelated or filled, and
optionally licence plates and faces found by OpenCV's Haar cascades, blurred.

Capture applies them once, when a frame is stored (cameras.capture.store_frame), so every
output made from stored frames is masked: the stored JPEG, the sequences, the published
bundle, the API and the road-boundary view. Analytics reads the stored frame too, so a mask
over the road also hides that part of the road from the road-condition analysis.

Plain NumPy and OpenCV, no Django: bench/masks.py runs it with any OpenCV.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

BLUR, PIXELATE, SOLID = "blur", "pixelate", "solid"
STYLES = (BLUR, PIXELATE, SOLID)
JPEG_QUALITY = 90
# Blur cells and pixel blocks are this share of the frame's width (20 px at 1280): a face or
# a plate shrinks to a few cells, whatever the resolution.
CELLS_ACROSS = 64
# A detected plate or face is blurred with this much margin on each side (share of its size).
DETECTION_MARGIN = 0.15

PLATE_CASCADE = "haarcascade_license_plate_rus_16stages.xml"
FACE_CASCADE = "haarcascade_frontalface_default.xml"

Point = tuple[float, float]
Box = tuple[int, int, int, int]  # x, y, width, height in pixels


class MaskError(ValueError):
    """The frame could not be masked; it must then not be stored."""


@dataclass(frozen=True)
class Region:
    """One operator-drawn mask: a polygon in fractions of the frame, a style, and the fill
    colour (BGR) for SOLID."""

    polygon: tuple[Point, ...]
    style: str = SOLID
    colour: tuple[int, int, int] = (0, 0, 0)


@dataclass(frozen=True)
class Privacy:
    """What to hide in one camera's frames. False when there is nothing to do, so that a
    camera without masks stores the camera's own bytes, never re-encoded."""

    regions: tuple[Region, ...] = ()
    plates: bool = False
    faces: bool = False

    def __bool__(self) -> bool:
        return bool(self.regions or self.plates or self.faces)


def hex_to_bgr(colour: str) -> tuple[int, int, int]:
    """A colour written #rrggbb, as OpenCV's (blue, green, red)."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return blue, green, red


def cell_size(width: int) -> int:
    return max(4, round(width / CELLS_ACROSS))


def pixel_points(polygon: Sequence[Point], width: int, height: int) -> np.ndarray:
    """The polygon in pixels, as analytics.road.polygon_mask places the road's: x·(w−1)."""
    points = np.array([[x * (width - 1), y * (height - 1)] for x, y in polygon])
    return np.round(points).astype(np.int32)


def blurred(roi: np.ndarray, cell: int) -> np.ndarray:
    """Down to one sample per cell, smoothed, and back up: as strong as a Gaussian blur of
    about two cells, at a fraction of its cost on a large region."""
    height, width = roi.shape[:2]
    small = cv2.resize(
        roi,
        (max(1, math.ceil(width / cell)), max(1, math.ceil(height / cell))),
        interpolation=cv2.INTER_AREA,
    )
    small = cv2.GaussianBlur(small, (0, 0), 1.0)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def pixelated(roi: np.ndarray, cell: int) -> np.ndarray:
    height, width = roi.shape[:2]
    small = cv2.resize(
        roi,
        (max(1, math.ceil(width / cell)), max(1, math.ceil(height / cell))),
        interpolation=cv2.INTER_AREA,
    )
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def apply_region(image: np.ndarray, region: Region) -> None:
    """Mask one region of `image` (BGR, changed in place)."""
    height, width = image.shape[:2]
    points = pixel_points(region.polygon, width, height)
    if region.style == SOLID:
        cv2.fillPoly(image, [points], region.colour)
        return
    x, y, w, h = cv2.boundingRect(points)
    roi = image[y : y + h, x : x + w]
    if roi.size == 0:
        return
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [points - (x, y)], 255)
    cell = cell_size(width)
    hidden = blurred(roi, cell) if region.style == BLUR else pixelated(roi, cell)
    cv2.copyTo(hidden, inside, roi)


def blur_boxes(image: np.ndarray, boxes: Sequence[Box]) -> None:
    """Blur each box (a detected plate or face), with a margin, in place."""
    height, width = image.shape[:2]
    for x, y, w, h in boxes:
        dx, dy = round(w * DETECTION_MARGIN), round(h * DETECTION_MARGIN)
        left, top = max(0, x - dx), max(0, y - dy)
        right, bottom = min(width, x + w + dx), min(height, y + h + dy)
        roi = image[top:bottom, left:right]
        if roi.size:
            # Cells no bigger than a third of the box, so a small plate is still smeared.
            roi[:] = blurred(roi, max(2, min(cell_size(width), (bottom - top) // 3)))


def apply_privacy(image: np.ndarray, privacy: Privacy) -> np.ndarray:
    """Everything `privacy` asks for, on `image` (BGR, changed in place and returned).
    Detection runs first, on the unmasked picture; the drawn regions go on top."""
    boxes = detect(image, plates=privacy.plates, faces=privacy.faces)
    blur_boxes(image, boxes)
    for region in privacy.regions:
        apply_region(image, region)
    return image


def mask_jpeg(jpeg: bytes, privacy: Privacy, quality: int = JPEG_QUALITY) -> tuple[bytes, int, int]:
    """The masked frame as JPEG bytes, with its width and height. Raises MaskError when it
    cannot be done, so the caller stores nothing rather than the unmasked frame."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise MaskError("the frame could not be decoded to apply the privacy masks.")
    apply_privacy(image, privacy)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise MaskError("the masked frame could not be encoded.")
    return data.tobytes(), image.shape[1], image.shape[0]


# --- automatic detection -------------------------------------------------------------------


def cascade_folder() -> Path | None:
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    return Path(folder) if folder else None


def detection_problem() -> str | None:
    """Why this installation cannot find plates and faces; None when it can. OpenCV 5 moved
    the cascade detector out of its main modules, and its wheels no longer ship the
    cascade files."""
    if not hasattr(cv2, "CascadeClassifier"):
        return (
            f"OpenCV {cv2.__version__} has no Haar cascade detector (OpenCV 5 dropped it from "
            "opencv-python-headless); automatic blurring needs OpenCV 4."
        )
    folder = cascade_folder()
    for name in (PLATE_CASCADE, FACE_CASCADE):
        if folder is None or not (folder / name).is_file():
            return f"OpenCV {cv2.__version__} ships no {name}; automatic blurring needs OpenCV 4."
    return None


# Detection may run on several capture threads at once; a classifier is not safe to share.
_local = threading.local()
# OpenCV 5's type stubs have no CascadeClassifier (detection_problem says why).
_cv2: Any = cv2


def cascade(name: str) -> Any:
    loaded: dict[str, Any] = _local.__dict__.setdefault("cascades", {})
    if name not in loaded:
        folder = cascade_folder()
        classifier = _cv2.CascadeClassifier(str(folder / name) if folder else name)
        if classifier.empty():
            raise MaskError(f"the detector {name} could not be loaded.")
        loaded[name] = classifier
    return loaded[name]


def find(grey: np.ndarray, name: str) -> list[Box]:
    found = cascade(name).detectMultiScale(grey, scaleFactor=1.1, minNeighbors=4)
    return [tuple(int(v) for v in box) for box in found]  # type: ignore[misc]


def detect(image: np.ndarray, *, plates: bool, faces: bool) -> list[Box]:
    """Licence plates and faces found by OpenCV's Haar cascades, in pixels. They search
    windows of 64×16 (plates) and 24×24 (faces) pixels and larger, so smaller plates and
    faces, which is most of them on a road camera, are not found (bench/masks.py)."""
    if not (plates or faces):
        return []
    problem = detection_problem()
    if problem:
        raise MaskError(problem)
    grey = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    boxes: list[Box] = []
    if plates:
        boxes += find(grey, PLATE_CASCADE)
    if faces:
        boxes += find(grey, FACE_CASCADE)
    return boxes
