"""A day at a glance: per camera and local date, a timelapse MP4 of the daylight frames and a
day strip of the road (sequences.daystrip), with the day's sunrise and sunset.

One pass over the day's stored frames, oldest first, decodes each frame once: its column goes
into the strip, and a daylight frame is fitted and handed straight to the MP4 encoder (which
takes a generator), so a day of frames never sits in memory at once. A frame that cannot be
read is skipped and counted. Files are written atomically under fresh names and named in the
row only once complete; the previous files of a rebuilt day are removed after.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from astral import Observer
from astral.sun import elevation, noon, sunrise, sunset
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from analytics.kinds import Polygon
from analytics.models import RoadRegion
from cameras.models import Camera, Frame
from sequences.builder import fit_size
from sequences.choices import DigestStatus, SunPath
from sequences.daystrip import DayStrip, column_minutes
from sequences.encoders import atomic_write, encode_mp4
from sequences.models import DayDigest

log = logging.getLogger(__name__)

# 10 frames a second: a day of one frame every 30 s (about 1200 daylight frames in winter)
# plays in two minutes.
TIMELAPSE_FRAME_MS = 100
# Above this many daylight frames, every k-th is taken so the MP4 stays a few minutes long.
MAX_TIMELAPSE_FRAMES = 1800
# The timelapse is fitted inside this box (aspect kept).
TIMELAPSE_BOX = (1280, 720)


@dataclass(frozen=True)
class SunDay:
    path: SunPath
    sunrise: dt.datetime | None = None
    sunset: dt.datetime | None = None

    def is_daylight(self, at: dt.datetime) -> bool:
        if self.path in (SunPath.POLAR_DAY, SunPath.NO_LOCATION):
            return True
        if self.sunrise is None or self.sunset is None:
            return False
        if self.sunrise <= self.sunset:
            return self.sunrise <= at <= self.sunset
        # Far north in summer the sun sets after midnight: astral gives that day's early
        # morning sunset, so daylight is before it and after the sunrise.
        return at <= self.sunset or at >= self.sunrise


def sun_day(camera: Camera, day: dt.date) -> SunDay:
    """Sunrise and sunset at the camera's position, in its time zone. astral raises when the
    sun stays up or down all day; the sun's height at noon then says which."""
    if camera.latitude is None or camera.longitude is None:
        return SunDay(SunPath.NO_LOCATION)
    observer = Observer(latitude=camera.latitude, longitude=camera.longitude)
    tz = camera.tz
    try:
        return SunDay(
            SunPath.RISES_AND_SETS,
            sunrise(observer, date=day, tzinfo=tz),
            sunset(observer, date=day, tzinfo=tz),
        )
    except ValueError:
        high = elevation(observer, noon(observer, date=day, tzinfo=tz))
        return SunDay(SunPath.POLAR_DAY if high > 0 else SunPath.POLAR_NIGHT)


def day_bounds(camera: Camera, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight to the next local midnight (23 or 25 hours when the clocks change)."""
    tz = camera.tz
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start, end


def day_frames(camera: Camera, day: dt.date) -> list[Frame]:
    start, end = day_bounds(camera, day)
    return list(
        Frame.objects.filter(camera=camera, captured_at__gte=start, captured_at__lt=end).order_by(
            "captured_at"
        )
    )


def road_polygon(camera: Camera) -> Polygon:
    region = RoadRegion.objects.filter(camera=camera).first()
    return region.effective_polygon() if region else []


def yesterday(camera: Camera, now: dt.datetime) -> dt.date:
    return now.astimezone(camera.tz).date() - dt.timedelta(days=1)


# A build takes about a minute; a claim this old lost its worker (killed, recycled, restarted).
STALE_CLAIM = dt.timedelta(hours=1)


def claim(camera: Camera, day: dt.date, now: dt.datetime) -> bool:
    """Create the day's row as pending: the one that creates it builds it. A pending claim
    older than STALE_CLAIM is taken again, by one claimant only."""
    try:
        with transaction.atomic():
            DayDigest.objects.create(camera=camera, date=day, claimed_at=now)
    except IntegrityError:
        stale = DayDigest.objects.filter(
            camera=camera, date=day, status=DigestStatus.PENDING, claimed_at__lt=now - STALE_CLAIM
        )
        return stale.update(claimed_at=now) == 1
    return True


def decode(frame: Frame, box: tuple[int, int]) -> np.ndarray | None:
    """The frame's pixels (BGR), at half size when that still fills `box`; None when the
    file is gone or is not a readable JPEG."""
    try:
        data = np.fromfile(Path(settings.MEDIA_ROOT) / frame.file, np.uint8)
    except OSError:
        return None
    reduce = frame.width >= 2 * box[0] and frame.height >= 2 * box[1]
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_2 if reduce else cv2.IMREAD_COLOR)


@dataclass
class Pass:
    """What one pass over the day found."""

    strip: DayStrip
    daylight: int = 0
    skipped: int = 0
    size: tuple[int, int] | None = None  # of the MP4's frames


def timelapse_stride(frames: list[Frame], sun: SunDay) -> int:
    daylight = sum(1 for f in frames if sun.is_daylight(f.captured_at))
    return max(1, -(-daylight // MAX_TIMELAPSE_FRAMES))


def walk(
    frames: list[Frame], sun: SunDay, polygon: Polygon, tz: dt.tzinfo, found: Pass
) -> Iterator[Image.Image]:
    """Paint every frame's column; yield the daylight frames fitted for the MP4. Each frame's
    pixels are dropped before the next is read."""
    stride = timelapse_stride(frames, sun)
    daylight_seen = 0
    for frame in frames:
        local = frame.captured_at.astimezone(tz)
        daylight = sun.is_daylight(frame.captured_at)
        in_mp4 = daylight and daylight_seen % stride == 0
        daylight_seen += int(daylight)
        in_strip = found.strip.wants(local)
        if not (in_mp4 or in_strip):
            continue
        bgr = decode(frame, TIMELAPSE_BOX)
        if bgr is None:
            found.skipped += 1
            log.warning("day digest: frame %s could not be decoded; skipped", frame.file)
            continue
        if in_strip:
            found.strip.paint(bgr, polygon, local)
        if in_mp4:
            height, width = bgr.shape[:2]
            # The first daylight frame sets the size: fitted into the box, never enlarged. A
            # camera whose resolution changed during the day is scaled to it.
            found.size = found.size or (
                fit_size(width, height, *TIMELAPSE_BOX)
                if width > TIMELAPSE_BOX[0] or height > TIMELAPSE_BOX[1]
                else (width, height)
            )
            if (width, height) != found.size:
                bgr = cv2.resize(bgr, found.size, interpolation=cv2.INTER_AREA)
            found.daylight += 1
            yield Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        del bgr


def output_stem(camera: Camera, day: dt.date) -> tuple[str, Path]:
    """A fresh name per build, so a rebuild never overwrites a file being served."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    relative = f"digests/{camera.slug}/{day.isoformat()}-{stamp}"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return relative, path


def build_day(camera: Camera, day: dt.date) -> DayDigest:
    """Build (or rebuild) the camera's digest of `day` and record it. A day without frames
    is recorded as such; a write that fails (a full disk) leaves no file named in the row and
    no partial file behind, and raises OSError."""
    started = time.perf_counter()
    digest, _ = DayDigest.objects.get_or_create(camera=camera, date=day)
    sun = sun_day(camera, day)
    frames = day_frames(camera, day)
    old_files = digest.files()
    found = Pass(DayStrip(column_minutes([f.captured_at for f in frames])))
    relative, stem = output_stem(camera, day)
    mp4_path, strip_path = stem.with_suffix(".mp4"), stem.with_suffix(".png")
    written: list[Path] = []
    try:
        images = walk(frames, sun, road_polygon(camera), camera.tz, found)
        first = next(images, None)
        mp4_bytes = 0
        if first is not None:
            written.append(mp4_path)
            mp4_bytes = encode_mp4(
                itertools.chain([first], images), mp4_path, duration_ms=TIMELAPSE_FRAME_MS
            )
        else:
            for _ in images:  # no daylight frame: the strip still wants the night's frames
                pass
        strip_bytes = 0
        if found.strip.columns:
            written.append(strip_path)
            with atomic_write(strip_path) as tmp:
                found.strip.image(sun.sunrise, sun.sunset).save(tmp, format="PNG", optimize=True)
            strip_bytes = strip_path.stat().st_size
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    digest.status = DigestStatus.BUILT if found.strip.columns else DigestStatus.NO_FRAMES
    digest.sun_path = sun.path
    digest.sunrise, digest.sunset = sun.sunrise, sun.sunset
    digest.mp4 = f"{relative}.mp4" if mp4_bytes else ""
    digest.mp4_bytes = mp4_bytes
    digest.strip = f"{relative}.png" if strip_bytes else ""
    digest.strip_bytes = strip_bytes
    digest.frame_count = found.strip.columns
    digest.daylight_frames = found.daylight
    digest.skipped_frames = found.skipped
    digest.built_at = timezone.now()
    digest.build_seconds = time.perf_counter() - started
    digest.last_error = ""
    digest.save()
    root = Path(settings.MEDIA_ROOT)
    for old in old_files:
        (root / old).unlink(missing_ok=True)
    log.info(
        "camera %s: day %s digest: %d frames in the strip, %d in the MP4, %d unreadable, %.1f s",
        camera.slug,
        day,
        digest.frame_count,
        digest.daylight_frames,
        digest.skipped_frames,
        digest.build_seconds,
    )
    return digest


def record_failure(camera: Camera, day: dt.date, message: str) -> None:
    DayDigest.objects.update_or_create(
        camera=camera,
        date=day,
        defaults={"status": DigestStatus.FAILED, "last_error": message[:300]},
    )
