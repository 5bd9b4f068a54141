"""A day at a glance built from a real day of stored frames: the demo camera rendered at each
quarter hour of a December day in Denver (a fake clock), stored as capture stores them, then
read back with real decoders (PyAV for the MP4, Pillow for the strip)."""

from __future__ import annotations

import datetime as dt
import errno
import zoneinfo
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from astral import Observer
from astral.sun import sunrise, sunset
from PIL import Image

from analytics.models import RoadRegion
from cameras.capture import store_frame
from cameras.models import Camera, Frame, SourceKind
from cameras.sources.demo import DemoSource
from sequences import tasks
from sequences.choices import DigestStatus, SunPath
from sequences.daystrip import AXIS_HEIGHT, BAND_HEIGHT, MINUTES, NO_FRAME_GREY, NO_FRAME_HATCH
from sequences.digest import build_day
from sequences.models import DayDigest
from tests.factories import demo_day, fake_clock

DENVER = zoneinfo.ZoneInfo("America/Denver")
DAY = dt.date(2026, 12, 15)
WIDTH, HEIGHT = 320, 180
SPACING_MIN = 15
# The road as the operator drew it; its bounding box in a 320×180 frame is x 32–288, y 108–180.
ROAD = [[0.3, 0.6], [0.7, 0.6], [0.9, 1.0], [0.1, 1.0]]
ROAD_BOX = (32, 108, 288, 180)


def make_camera(name: str, lat: float | None, lon: float | None, tz: str) -> Camera:
    camera = Camera.objects.create(
        name=name,
        slug=name.lower().replace(" ", "-"),
        location_name=name,
        latitude=lat,
        longitude=lon,
        time_zone=tz,
        source_kind=SourceKind.DEMO,
        capture_width=WIDTH,
        capture_height=HEIGHT,
    )
    RoadRegion.objects.create(camera=camera, operator_polygon=ROAD)
    return camera


def store_day(camera: Camera, day: dt.date, spacing_min: int = SPACING_MIN) -> list[Frame]:
    return demo_day(camera, day, spacing_min, WIDTH, HEIGHT)


@pytest.fixture
def denver(db) -> Camera:
    return make_camera("Denver", 39.7392, -104.9903, "America/Denver")


def pixels(frame: Frame, media_root: Path) -> np.ndarray:
    bgr = cv2.imread(str(media_root / frame.file))
    assert bgr is not None
    return bgr


def decoded_mp4(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def test_it_builds_the_daylight_timelapse_and_day_strip_with_the_sun_times(denver, media_root):
    frames = store_day(denver, DAY)
    digest = build_day(denver, DAY)

    # Sunrise and sunset: astral's for Denver's position and time zone, and about right.
    observer = Observer(latitude=39.7392, longitude=-104.9903)
    assert digest.sun_path == SunPath.RISES_AND_SETS
    assert digest.sunrise == sunrise(observer, date=DAY, tzinfo=DENVER)
    assert digest.sunset == sunset(observer, date=DAY, tzinfo=DENVER)
    rise, set_ = digest.sunrise.astimezone(DENVER), digest.sunset.astimezone(DENVER)
    assert (rise.date(), set_.date()) == (DAY, DAY)
    assert dt.time(7, 0) < rise.time() < dt.time(7, 25)
    assert dt.time(16, 25) < set_.time() < dt.time(16, 50)

    daylight = [f for f in frames if rise <= f.captured_at <= set_]
    # 07:15 … 16:30: 38 quarter hours.
    assert len(daylight) == 38
    assert digest.status == DigestStatus.BUILT
    assert (digest.frame_count, digest.daylight_frames, digest.skipped_frames) == (96, 38, 0)

    # The MP4 holds exactly the daylight frames, in order: each decoded picture is nearest
    # to the stored frame at its own position and to no other.
    video = decoded_mp4(media_root / digest.mp4)
    assert len(video) == len(daylight)
    stored = np.stack([pixels(f, media_root).astype(np.float32) for f in daylight])
    for index, picture in enumerate(video):
        assert picture.shape == (HEIGHT, WIDTH, 3)
        errors = ((stored - picture.astype(np.float32)) ** 2).mean(axis=(1, 2, 3))
        assert int(errors.argmin()) == index
        assert errors[index] < 30  # H.264 at crf 23 on a small frame

    # The strip: 24 h at one pixel a minute, one 15-minute column per frame, from the road.
    strip = np.asarray(Image.open(media_root / digest.strip).convert("RGB"))
    assert strip.shape == (BAND_HEIGHT + AXIS_HEIGHT, MINUTES, 3)
    x0, y0, x1, y1 = ROAD_BOX
    for frame in frames:
        local = frame.captured_at.astimezone(DENVER)
        x = local.hour * 60 + local.minute
        bgr = pixels(frame, media_root)
        size = (SPACING_MIN, BAND_HEIGHT)
        road = cv2.resize(bgr[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
        whole = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        painted = strip[:BAND_HEIGHT, x : x + SPACING_MIN, ::-1].astype(int)
        assert np.abs(painted - road).max() <= 1, f"column of {local:%H:%M}"
        if rise <= local <= set_:  # by day the sky differs from the road: it is the road
            assert np.abs(painted - whole).max() > 20
    # Night is dark and noon is bright in the strip too.
    assert strip[:BAND_HEIGHT, 12 * 60].mean() > 2 * strip[:BAND_HEIGHT, 2 * 60].mean()


def test_it_records_a_polar_night_with_no_timelapse(db, media_root):
    tromso = make_camera("Tromso", 69.6492, 18.9553, "Europe/Oslo")
    store_day(tromso, DAY, spacing_min=60)
    digest = build_day(tromso, DAY)
    assert digest.sun_path == SunPath.POLAR_NIGHT
    assert (digest.sunrise, digest.sunset) == (None, None)
    assert digest.status == DigestStatus.BUILT
    assert (digest.frame_count, digest.daylight_frames, digest.mp4) == (24, 0, "")
    assert (media_root / digest.strip).is_file()


def test_it_puts_the_whole_polar_day_in_the_timelapse(db, media_root):
    tromso = make_camera("Tromso", 69.6492, 18.9553, "Europe/Oslo")
    midsummer = dt.date(2026, 6, 21)
    store_day(tromso, midsummer, spacing_min=60)
    digest = build_day(tromso, midsummer)
    assert digest.sun_path == SunPath.POLAR_DAY
    assert (digest.sunrise, digest.sunset) == (None, None)
    assert len(decoded_mp4(media_root / digest.mp4)) == 24 == digest.daylight_frames


def test_it_says_no_frames_for_a_day_without_any(denver, media_root):
    store_day(denver, DAY - dt.timedelta(days=2), spacing_min=240)
    message = tasks.build_day(denver.pk, DAY.isoformat())
    digest = DayDigest.objects.get(camera=denver, date=DAY)
    assert digest.status == DigestStatus.NO_FRAMES
    assert "No frames that day" in message
    assert (digest.mp4, digest.strip, digest.frame_count) == ("", "", 0)
    assert not (media_root / "digests").exists() or not any((media_root / "digests").rglob("*.*"))


def test_it_skips_and_counts_a_corrupt_frame(denver, media_root):
    frames = store_day(denver, DAY, spacing_min=60)
    noon = next(f for f in frames if f.captured_at.astimezone(DENVER).hour == 12)
    (media_root / noon.file).write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    digest = build_day(denver, DAY)
    assert digest.skipped_frames == 1
    assert digest.frame_count == 23
    assert len(decoded_mp4(media_root / digest.mp4)) == digest.daylight_frames == 9 - 1


def test_it_leaves_no_partial_file_and_keeps_the_old_digest_when_the_disk_is_full(
    denver, media_root, monkeypatch
):
    store_day(denver, DAY, spacing_min=60)
    before = build_day(denver, DAY)
    files_before = sorted(p.name for p in (media_root / "digests").rglob("*") if p.is_file())

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    message = tasks.build_day(denver.pk, DAY.isoformat())

    assert message == "Could not write: No space left on device."
    after = DayDigest.objects.get(pk=before.pk)
    assert after.status == DigestStatus.FAILED
    assert after.last_error == message
    # The day's earlier files are still whole and named; nothing half-written is left.
    assert (after.mp4, after.strip) == (before.mp4, before.strip)
    files_after = sorted(p.name for p in (media_root / "digests").rglob("*") if p.is_file())
    assert files_after == files_before


def test_it_places_columns_by_the_local_clock_on_the_day_it_changes(db, media_root):
    """The night the clocks go forward has 23 hours: the strip still runs 00:00–24:00 local
    and the hour that does not exist stays empty."""
    camera = make_camera("Spring", 39.7392, -104.9903, "America/Denver")
    day = dt.date(2026, 3, 8)
    frames = store_day(camera, day, spacing_min=60)
    assert len(frames) == 23
    digest = build_day(camera, day)
    assert digest.frame_count == 23
    strip = np.asarray(Image.open(media_root / digest.strip).convert("RGB"))
    empty = strip[:BAND_HEIGHT, 2 * 60 : 3 * 60]
    hatch = {tuple(c) for c in empty.reshape(-1, 3)}
    assert hatch == {NO_FRAME_GREY, NO_FRAME_HATCH}
    three = frames[2]
    assert three.captured_at.astimezone(camera.tz).hour == 3
    assert {tuple(c) for c in strip[:BAND_HEIGHT, 3 * 60].reshape(-1, 3)} - hatch


def test_it_scales_frames_to_one_size_when_the_camera_resolution_changed(denver, media_root):
    start = dt.datetime.combine(DAY, dt.time(), tzinfo=DENVER)
    for hour in range(0, 24, 2):  # 320×180 until 10:00, then 256×144
        when = start + dt.timedelta(hours=hour)
        size = (WIDTH, HEIGHT) if hour < 11 else (256, 144)
        store_frame(denver, DemoSource(*size, clock=fake_clock(when)).grab(), when)
    digest = build_day(denver, DAY)
    assert digest.frame_count == 12
    video = decoded_mp4(media_root / digest.mp4)
    assert len(video) == digest.daylight_frames == 5  # 08:00 … 16:00
    assert {picture.shape for picture in video} == {(HEIGHT, WIDTH, 3)}
