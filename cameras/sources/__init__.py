"""Camera sources: one module per kind, all behind `base.Source`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from cameras.sources.base import CaptureError, CaptureErrorKind, Grab, Source

if TYPE_CHECKING:
    from cameras.models import Camera

__all__ = ["CaptureError", "CaptureErrorKind", "Grab", "Source", "open_source"]

# Every network step gives up after this long, so a dead camera costs one slot at most. A
# snapshot grab is bounded by it as a whole; an RTSP grab by twice it (connecting, then
# waiting up to a GOP for a keyframe). `Source.deadline_s` says the bound of each.
TIMEOUT_SECONDS = 5.0


def open_source(camera: Camera) -> Source:
    """A session to the camera; callers grab from it and close it after the burst."""
    from cameras.models import SourceKind

    if camera.source_kind == SourceKind.DEMO:
        return demo_source(camera)
    if camera.source_kind == SourceKind.RTSP:
        return rtsp_source(camera, camera.source_url)
    if camera.source_kind == SourceKind.HTTP:
        return http_source(camera, camera.source_url)
    if camera.source_kind == SourceKind.ONVIF:
        return onvif_source(camera)
    raise CaptureError(
        CaptureErrorKind.NOT_CONFIGURED, message=f"Unknown source kind “{camera.source_kind}”."
    )


def demo_source(camera: Camera) -> Source:
    from cameras.sources.demo import DemoSource

    tz = camera.tz
    return DemoSource(
        camera.capture_width,
        camera.capture_height,
        snow=bool(camera.source_settings.get("snow", False)),
        seed=camera.pk or 0,
        clock=lambda: dt.datetime.now(tz),
    )


def rtsp_source(camera: Camera, url: str) -> Source:
    from cameras.sources.rtsp import RtspSource

    return RtspSource(
        url,
        username=camera.username,
        password=camera.password,
        open_timeout=TIMEOUT_SECONDS,
        read_timeout=TIMEOUT_SECONDS,
    )


def http_source(camera: Camera, url: str) -> Source:
    from cameras.sources.http_snapshot import HttpSnapshotSource

    return HttpSnapshotSource(
        url, username=camera.username, password=camera.password, timeout=TIMEOUT_SECONDS
    )


def onvif_source(camera: Camera) -> Source:
    """Through the URIs discovered when the camera was added: the snapshot URI when the device
    has one (the camera encodes the JPEG), else its RTSP stream."""
    snapshot = camera.source_settings.get("snapshot_uri")
    if snapshot:
        return http_source(camera, snapshot)
    stream = camera.source_settings.get("stream_uri")
    if stream:
        return rtsp_source(camera, stream)
    raise CaptureError(
        CaptureErrorKind.NOT_CONFIGURED,
        message="ONVIF device not discovered yet: run `manage.py camera check` on it.",
    )
