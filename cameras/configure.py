"""Setting a camera's source from what an operator types: a URL, a user, a password."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from cameras.models import Camera, SourceKind
from cameras.sources import TIMEOUT_SECONDS, open_source
from cameras.sources.urls import split_credentials

SCHEMES = {
    "rtsp": SourceKind.RTSP,
    "rtsps": SourceKind.RTSP,
    "http": SourceKind.HTTP,
    "https": SourceKind.HTTP,
    "onvif": SourceKind.ONVIF,
    "demo": SourceKind.DEMO,
}


def kind_for(url: str) -> SourceKind:
    scheme = url.split(":", 1)[0].lower()
    if scheme not in SCHEMES:
        raise ValueError(
            f"Unsupported URL scheme “{scheme}”: use rtsp://, http(s)://, onvif://host[:port] "
            "or demo:."
        )
    return SCHEMES[scheme]


def set_source(camera: Camera, url: str, username: str = "", password: str = "") -> None:
    """Fill the camera's source fields. Credentials typed into the URL are moved to their own
    fields, so the stored URL never holds a password."""
    kind = kind_for(url)
    camera.source_kind = kind
    if kind == SourceKind.DEMO:
        camera.source_url = ""
        return
    bare, url_user, url_password = split_credentials(url)
    camera.source_url = bare
    camera.username = username or url_user or camera.username
    camera.password = password or url_password or camera.password
    if kind == SourceKind.ONVIF:
        discover_onvif(camera)


def discover_onvif(camera: Camera) -> None:
    """Ask the device for its profiles and URIs, and keep them for capture."""
    from cameras.sources.onvif import discover

    parts = urlsplit(camera.source_url)
    device = discover(
        parts.hostname or "",
        parts.port or 80,
        username=camera.username,
        password=camera.password,
        timeout=TIMEOUT_SECONDS,
    )
    camera.source_settings = {
        **camera.source_settings,
        "profile": device.profile_token,
        "profiles": [p.token for p in device.profiles],
        "stream_uri": split_credentials(device.stream_uri)[0] if device.stream_uri else "",
        "snapshot_uri": split_credentials(device.snapshot_uri)[0] if device.snapshot_uri else "",
    }


@dataclass(frozen=True)
class CheckResult:
    milliseconds: float
    width: int
    height: int
    size_bytes: int


def check(camera: Camera) -> CheckResult:
    """Connect, grab one frame, disconnect. Raises CaptureError in plain words."""
    from cameras.capture import validate_jpeg

    started = time.perf_counter()
    source = open_source(camera)
    try:
        grab = source.grab()
    finally:
        source.close()
    elapsed = (time.perf_counter() - started) * 1000
    validate_jpeg(grab)
    return CheckResult(elapsed, grab.width, grab.height, len(grab.jpeg))
