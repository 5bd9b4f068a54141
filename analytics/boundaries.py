"""The road boundary visualisation: the latest stored frame with the road region drawn on it.

Only stored frames are read, and capture stores a frame with its privacy masks already
applied (cameras.masks), so the picture shows the masks too; analytics.views serves it to
staff only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from analytics.analysis import road_region
from analytics.models import RoadRegion
from analytics.road import Polygon, contour_count, polygon_mask
from analytics.service import frame_path
from cameras.models import Camera, Frame

# Only look this far back for a readable file, so a broken store cannot make a request slow.
LOOK_BACK = 5
FILL = (0, 200, 0)
OUTLINE = (0, 255, 255)


@dataclass(frozen=True)
class BoundaryView:
    camera: Camera
    frame: Frame
    jpeg: bytes
    image: np.ndarray
    polygon: Polygon
    source: str

    @property
    def mask(self) -> np.ndarray:
        return polygon_mask(self.polygon, self.image.shape[1], self.image.shape[0])

    def metadata(self) -> dict[str, Any]:
        mask = self.mask
        pixels = int(np.count_nonzero(mask))
        return {
            "camera": self.camera.slug,
            "frame_captured_at": self.frame.captured_at.isoformat(),
            "width": int(self.image.shape[1]),
            "height": int(self.image.shape[0]),
            "road_pixels": pixels,
            "coverage_percent": round(100.0 * pixels / mask.size, 1),
            "contours": contour_count(mask),
            "source": self.source,
            "polygon": [list(p) for p in self.polygon],
        }

    def headers(self) -> dict[str, str]:
        meta = self.metadata()
        return {
            "X-Road-Pixels": str(meta["road_pixels"]),
            "X-Road-Coverage": str(meta["coverage_percent"]),
            "X-Road-Contours": str(meta["contours"]),
            "X-Road-Frame-Time": meta["frame_captured_at"],
            "X-Road-Source": meta["source"],
        }

    def overlay_png(self) -> bytes:
        image = self.image.copy()
        mask = self.mask
        tinted = image.copy()
        tinted[mask] = FILL
        image = cv2.addWeighted(tinted, 0.35, image, 0.65, 0)
        h, w = image.shape[:2]
        points = np.array([[x * (w - 1), y * (h - 1)] for x, y in self.polygon])
        thickness = max(2, w // 400)
        cv2.polylines(image, [np.round(points).astype(np.int32)], True, OUTLINE, thickness)
        ok, data = cv2.imencode(".png", image)
        if not ok:
            raise ValueError("PNG encoding failed")
        return data.tobytes()


def latest(camera: Camera) -> BoundaryView | None:
    """The newest readable stored frame with the road region; None if there is none."""
    for frame in Frame.objects.filter(camera=camera).order_by("-captured_at")[:LOOK_BACK]:
        path = frame_path(frame)
        if not path.is_file():
            continue
        data = path.read_bytes()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            continue
        region = road_region(camera)
        polygon, source = _polygon(region)
        return BoundaryView(camera, frame, data, image, polygon, source)
    return None


def _polygon(region: RoadRegion | None) -> tuple[Polygon, str]:
    if region is None:
        return [], "none"
    return region.effective_polygon(), region.source
