"""Building a sequence: the newest frames, fitted and overlaid, encoded, then recorded."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from PIL import Image

from analytics.service import current_conditions
from cameras.models import Camera, Frame
from sequences import live
from sequences.choices import ConditionWording, OptimisationLevel, OutputFormat, OverlayStyle
from sequences.encoders import encode_gif, encode_mp4, encode_webp
from sequences.models import Sequence, SequenceSettings
from sequences.overlay import OverlayInfo, draw_overlay

log = logging.getLogger(__name__)


class BuildError(Exception):
    """A sequence could not be built; the message is plain words for the operator."""


def settings_for(camera: Camera) -> SequenceSettings:
    sequence_settings, _ = SequenceSettings.objects.get_or_create(camera=camera)
    return sequence_settings


def newest_frames(camera: Camera) -> list[Frame]:
    """The newest N frames, oldest first (the closed product took the oldest N)."""
    newest = Frame.objects.filter(camera=camera).order_by("-captured_at")
    return list(reversed(newest[: camera.frames_per_sequence]))


def fit_size(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int]:
    scale = min(box_w / width, box_h / height)
    return max(2, round(width * scale)), max(2, round(height * scale))


def load_frame(frame: Frame, box: tuple[int, int]) -> Image.Image:
    """Decode and fit one frame. JPEG's own reduced decode skips most of the work when the
    frame is at least twice the output size."""
    data = np.fromfile(Path(settings.MEDIA_ROOT) / frame.file, np.uint8)
    reduce = frame.width >= 2 * box[0] and frame.height >= 2 * box[1]
    bgr = cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_2 if reduce else cv2.IMREAD_COLOR)
    if bgr is None:
        raise BuildError(f"Frame {frame.file} could not be decoded.")
    size = fit_size(bgr.shape[1], bgr.shape[0], *box)
    if size != (bgr.shape[1], bgr.shape[0]):
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    return Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def render_frames(camera: Camera, frames: list[Frame], opts: SequenceSettings) -> list[Image.Image]:
    """Each frame stamped with its own capture time; condition, temperature and alerts are the
    current ones, shared by the whole sequence, in the camera's units."""
    box = (opts.output_width, opts.output_height)
    style = OverlayStyle(opts.overlay_style)
    now = current_conditions(camera)
    units = camera.display_units
    wording = now.level_label if opts.condition_wording == ConditionWording.LEVELS else now.label
    images = []
    for frame in frames:
        image = load_frame(frame, box)
        info = OverlayInfo(
            place=camera.location_name,
            captured_at=frame.captured_at.astimezone(camera.tz),
            condition=wording,
            temperature_c=now.temperature_c,
            alerts=tuple(now.alerts[:2]),
            units=units,
        )
        images.append(draw_overlay(image, info, style))
    return images


def output_stem(camera: Camera) -> tuple[str, Path]:
    """A fresh name per build: a new sequence never overwrites the one being served."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    relative = f"sequences/{camera.slug}/{stamp}"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return relative, path


def encode_all(
    images: list[Image.Image], stem: Path, opts: SequenceSettings
) -> dict[OutputFormat, int]:
    """GIF for every browser, MP4 and WebP where smaller. If one fails, none is kept."""
    level = OptimisationLevel(opts.optimisation)
    ms = opts.duration_ms
    written: dict[OutputFormat, int] = {}
    try:
        written[OutputFormat.GIF] = encode_gif(
            images, stem.with_suffix(".gif"), duration_ms=ms, level=level
        )
        written[OutputFormat.MP4] = encode_mp4(images, stem.with_suffix(".mp4"), duration_ms=ms)
        written[OutputFormat.WEBP] = encode_webp(
            images, stem.with_suffix(".webp"), duration_ms=ms, level=level
        )
    except BaseException:
        for kind in written:
            stem.with_suffix(f".{kind.value}").unlink(missing_ok=True)
        raise
    return written


def build_sequence(camera: Camera) -> Sequence:
    """Build and record one sequence. The row is written only once the files are whole, so a
    reader never finds a sequence whose file is missing or partial."""
    started = time.perf_counter()
    opts = settings_for(camera)
    frames = newest_frames(camera)
    if not frames:
        raise BuildError("No frames captured yet.")
    images = render_frames(camera, frames, opts)
    relative, stem = output_stem(camera)
    sizes = encode_all(images, stem, opts)
    with transaction.atomic():
        sequence = Sequence.objects.create(
            camera=camera,
            gif=f"{relative}.gif",
            gif_bytes=sizes[OutputFormat.GIF],
            mp4=f"{relative}.mp4",
            mp4_bytes=sizes[OutputFormat.MP4],
            webp=f"{relative}.webp",
            webp_bytes=sizes[OutputFormat.WEBP],
            width=images[0].width,
            height=images[0].height,
            frame_count=len(images),
            frame_duration_ms=opts.duration_ms,
            first_captured_at=frames[0].captured_at,
            last_captured_at=frames[-1].captured_at,
            build_seconds=time.perf_counter() - started,
        )
        sequence.frames.set(frames)
        transaction.on_commit(lambda: live.announce(sequence))
    log.info(
        "camera %s: built %d-frame sequence (GIF %d, MP4 %d, WebP %d bytes) in %.2f s",
        camera.slug,
        len(images),
        sequence.gif_bytes,
        sequence.mp4_bytes,
        sequence.webp_bytes,
        sequence.build_seconds,
    )
    return sequence
