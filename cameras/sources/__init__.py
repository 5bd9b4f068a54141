"""Camera sources: one module per kind, all behind `base.Source`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from cameras.sources.base import CaptureError, Grab, Source

if TYPE_CHECKING:
    from cameras.models import Camera

__all__ = ["CaptureError", "Grab", "Source", "open_source"]


def open_source(camera: Camera) -> Source:
    """Open a session to the camera; callers grab from it and close it after the burst."""
    from cameras.models import SourceKind
    from cameras.sources.demo import DemoSource

    if camera.source_kind == SourceKind.DEMO:
        tz = camera.tz
        return DemoSource(
            camera.capture_width,
            camera.capture_height,
            snow=bool(camera.source_settings.get("snow", False)),
            seed=camera.pk or 0,
            clock=lambda: dt.datetime.now(tz),
        )
    raise CaptureError(f"Unknown source kind “{camera.source_kind}”.")
