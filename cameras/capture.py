"""Taking one frame: grab, validate, store the file and its row, record the camera's health."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings
from django.db import IntegrityError
from django.dispatch import Signal
from django.utils import timezone

from cameras.models import Camera, Frame, frame_upload_path
from cameras.sources import CaptureError, Grab, Source

log = logging.getLogger(__name__)

# Sent after a frame is stored (kwargs: frame). Later stages listen to this rather than
# capture importing them, so imports keep pointing one way.
frame_stored = Signal()

# Below this standard deviation of grey levels a frame is one colour: lens cap, black frame.
MIN_STDDEV = 2.0


def validate_jpeg(grab: Grab) -> None:
    """Refuse frames that would spoil a sequence: undecodable or uniform."""
    pixels = cv2.imdecode(np.frombuffer(grab.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if pixels is None:
        raise CaptureError("Corrupt frame: the image could not be decoded.")
    if float(pixels.std()) < MIN_STDDEV:
        raise CaptureError("Blank frame: the image is a single colour.")


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


def store_frame(camera: Camera, grab: Grab, captured_at: dt.datetime) -> Frame:
    checksum = hashlib.sha256(grab.jpeg).hexdigest()
    relative = frame_upload_path(camera.slug, captured_at, checksum)
    path = Path(settings.MEDIA_ROOT) / relative
    write_atomically(path, grab.jpeg)
    try:
        return Frame.objects.create(
            camera=camera,
            captured_at=captured_at,
            file=relative,
            size_bytes=len(grab.jpeg),
            width=grab.width,
            height=grab.height,
            sha256=checksum,
        )
    except IntegrityError:
        path.unlink(missing_ok=True)
        raise


def capture_frame(camera: Camera, source: Source) -> Frame | None:
    """Grab one frame from an open source and store it. Failures are recorded, not raised."""
    try:
        grab = source.grab()
        captured_at = timezone.now()
        validate_jpeg(grab)
        frame = store_frame(camera, grab, captured_at)
    except CaptureError as exc:
        log.warning("camera %s: %s", camera.slug, exc)
        camera.record_failure(str(exc))
        return None
    except OSError as exc:
        log.error("camera %s: could not store frame: %s", camera.slug, exc.strerror)
        camera.record_failure(f"Could not store frame: {exc.strerror}.")
        return None
    if camera.consecutive_failures:
        log.info("camera %s recovered after %d failures", camera.slug, camera.consecutive_failures)
    camera.consecutive_failures = 0
    camera.record_success(frame.captured_at)
    frame_stored.send(sender=Frame, frame=frame)
    return frame
