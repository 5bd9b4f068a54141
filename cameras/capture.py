"""Taking one frame: grab, validate, store the file and its row, record the camera's health."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from cameras.masks import MaskError, Privacy, Region, hex_to_bgr, mask_jpeg
from cameras.models import (
    OFFLINE_AFTER_FAILURES,
    Camera,
    Frame,
    Health,
    PrivacyMask,
    PrivacySettings,
    frame_upload_path,
)
from cameras.signals import frame_stored, health_changed
from cameras.sources import CaptureError, Grab, Source

log = logging.getLogger(__name__)


# Below this standard deviation of grey levels a frame is one colour: lens cap, black frame.
MIN_STDDEV = 2.0
MIN_WIDTH, MIN_HEIGHT = 160, 120
# A frame byte-identical to each of the last this-many frames means the stream has frozen.
FROZEN_AFTER = 3


class FrameRejected(CaptureError):
    """The camera answered, but with a frame not worth keeping."""


def validate_jpeg(grab: Grab) -> None:
    """Refuse frames that would spoil a sequence: undecodable, tiny or uniform."""
    pixels = cv2.imdecode(np.frombuffer(grab.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if pixels is None:
        raise FrameRejected("Corrupt frame: the image could not be decoded.")
    height, width = pixels.shape
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise FrameRejected(f"Frame too small: {width}×{height} pixels.")
    if float(pixels.std()) < MIN_STDDEV:
        raise FrameRejected("Blank frame: the image is a single colour.")


def check_not_frozen(camera: Camera, checksum: str) -> None:
    recent = list(
        Frame.objects.filter(camera=camera).values_list("sha256", flat=True)[:FROZEN_AFTER]
    )
    if len(recent) == FROZEN_AFTER and all(c == checksum for c in recent):
        raise FrameRejected(f"Frozen image: identical to the last {FROZEN_AFTER} frames.")


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def privacy_of(camera: Camera) -> Privacy:
    """The camera's masks and automatic blurring, as cameras.masks applies them."""
    regions = tuple(
        Region(
            polygon=tuple((float(x), float(y)) for x, y in mask.polygon),
            style=mask.style,
            colour=hex_to_bgr(mask.fill_colour),
        )
        for mask in PrivacyMask.objects.filter(camera=camera)
    )
    auto = PrivacySettings.objects.filter(camera=camera).first()
    return Privacy(
        regions=regions,
        plates=bool(auto and auto.blur_plates),
        faces=bool(auto and auto.blur_faces),
    )


def masked(camera: Camera, grab: Grab) -> Grab:
    """The grab as it may be stored: with the camera's privacy masks applied (decoded,
    masked, re-encoded), or as the camera sent it when it has none."""
    privacy = privacy_of(camera)
    if not privacy:
        return grab
    try:
        jpeg, width, height = mask_jpeg(grab.jpeg, privacy)
    except MaskError as exc:
        raise CaptureError(f"Frame not stored: {exc}") from exc
    return replace(grab, jpeg=jpeg, width=width, height=height)


def store_frame(camera: Camera, grab: Grab, captured_at: dt.datetime) -> Frame:
    """Write the frame and its row. The privacy masks are applied here, before anything is
    written, and only the masked bytes ever reach the disk; a frame that cannot be masked is
    not stored (CaptureError). `sha256` is that of the camera's own bytes, so a frozen
    camera is recognised before any masking work (check_not_frozen)."""
    checksum = hashlib.sha256(grab.jpeg).hexdigest()
    stored = masked(camera, grab)
    relative = frame_upload_path(camera.slug, captured_at, checksum)
    path = Path(settings.MEDIA_ROOT) / relative
    write_atomically(path, stored.jpeg)
    try:
        return Frame.objects.create(
            camera=camera,
            captured_at=captured_at,
            file=relative,
            size_bytes=len(stored.jpeg),
            width=stored.width,
            height=stored.height,
            sha256=checksum,
        )
    except IntegrityError:
        path.unlink(missing_ok=True)
        raise


def capture_frame(
    camera: Camera, source: Source, *, announce: Callable[[int], None] | None = None
) -> Frame | None:
    """Grab one frame from an open source and store it. Failures are recorded, not raised.

    The stored frame is announced to the `frame_stored` receivers; the capture service
    passes `announce` to do that on its own thread instead of this one (cameras.runner)."""
    try:
        grab = source.grab()
        captured_at = timezone.now()
        validate_jpeg(grab)
        check_not_frozen(camera, hashlib.sha256(grab.jpeg).hexdigest())
        frame = store_frame(camera, grab, captured_at)
    except CaptureError as exc:
        fail(camera, str(exc), rejected=isinstance(exc, FrameRejected))
        return None
    except OSError as exc:
        fail(camera, f"Could not store the frame: {exc.strerror}.")
        return None
    if camera.consecutive_failures:
        log.info("camera %s recovered after %d failures", camera.slug, camera.consecutive_failures)
    recovered = camera.consecutive_failures > 0 or camera.health != Health.OK
    camera.consecutive_failures = 0
    camera.record_success(frame.captured_at)
    if recovered:
        camera.health = Health.OK
        health_changed.send(sender=Camera, camera=camera)
    if announce is not None:
        announce(frame.pk)
    else:
        for receiver, result in frame_stored.send_robust(sender=Frame, frame=frame):
            if isinstance(result, Exception):
                log.error("after frame %s: %s failed: %s", frame.pk, receiver, result)
    return frame


def fail(camera: Camera, error: str, *, rejected: bool = False) -> None:
    """Record a failure; log it when it starts or changes, not on every retry."""
    if camera.consecutive_failures == 0 or camera.last_error != error:
        log.warning("camera %s: %s", camera.slug, error)
    camera.record_failure(error, rejected=rejected)
    camera.last_error = error
    if camera.consecutive_failures in (1, OFFLINE_AFTER_FAILURES):
        health_changed.send(sender=Camera, camera=camera)
