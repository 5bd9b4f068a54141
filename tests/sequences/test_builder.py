from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import time_machine
from django.utils import timezone
from PIL import Image, ImageSequence

from analytics.kinds import Level, State
from analytics.models import ConditionReading
from cameras.capture import capture_frame
from cameras.units import Units
from sequences.builder import (
    BuildError,
    build_sequence,
    load_frame,
    newest_frames,
    render_frames,
    settings_for,
)
from sequences.choices import ConditionWording, OverlayStyle
from sequences.models import Sequence, SequenceSettings
from sequences.overlay import OverlayInfo, draw_overlay
from sequences.tasks import build_sequence as build_task
from tests.factories import ScriptedSource, frames, grab

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


def gif_frames(path: Path) -> list[Image.Image]:
    with Image.open(path) as gif:
        return [f.convert("RGB") for f in ImageSequence.Iterator(gif)]


def test_it_builds_a_looping_gif_from_the_newest_frames(camera, media_root):
    stored = frames(camera, 8, START)
    sequence = build_sequence(camera)
    assert sequence.frame_count == camera.frames_per_sequence == 5
    assert list(sequence.frames.order_by("captured_at")) == stored[-5:]
    assert sequence.first_captured_at == stored[3].captured_at
    assert sequence.last_captured_at == stored[7].captured_at
    path = Path(media_root) / sequence.gif
    with Image.open(path) as gif:
        assert gif.info["loop"] == 0
        assert getattr(gif, "n_frames", 1) == 5
    assert sequence.gif_bytes == path.stat().st_size


def test_it_honours_a_fractional_frame_duration(camera, media_root):
    frames(camera, 5, START)
    SequenceSettings.objects.create(camera=camera, frame_duration="0.5")
    sequence = build_sequence(camera)
    with Image.open(Path(media_root) / sequence.gif) as gif:
        durations = [f.info["duration"] for f in ImageSequence.Iterator(gif)]
    assert durations == [500] * 5


def test_it_fits_frames_inside_the_output_size_keeping_aspect(camera):
    frames(camera, 5, START)
    SequenceSettings.objects.create(camera=camera, output_width=320, output_height=320)
    sequence = build_sequence(camera)
    assert (sequence.width, sequence.height) == (320, 180)


def test_it_stamps_each_frame_with_its_own_time(camera, media_root):
    # The same picture at different times: only the overlay can make the frames differ.
    same = grab(seed=7)
    source = ScriptedSource([same] * 5)
    for i in range(5):
        with time_machine.travel(START + dt.timedelta(seconds=6 * i), tick=False):
            capture_frame(camera, source)
    sequence = build_sequence(camera)
    images = gif_frames(Path(media_root) / sequence.gif)
    height = images[0].height
    bars = [img.crop((0, int(height * 0.8), img.width, height)).tobytes() for img in images]
    assert len(set(bars)) > 1


def published_reading(camera, state: str, level: str) -> ConditionReading:
    """A current reading whose own state is heavy snow, published as `state` and `level`."""
    return ConditionReading.objects.create(
        camera=camera, measured_at=timezone.now() - dt.timedelta(minutes=1),
        state=State.SNOW, level=Level.HEAVY, reason="snow on the road",
        published_state=state, published_level=level, published_reason="the last readings",
        snow_coverage=0.6, wetness=0.1, ice_likelihood=0.0, brightness=0.5, confidence=0.8,
    )  # fmt: skip


def overlaid(camera, opts: SequenceSettings, condition: str | None) -> list[np.ndarray]:
    """The newest frames as the builder should draw them: `condition` None is "Condition: —"."""
    box = (opts.output_width, opts.output_height)
    return [
        np.asarray(
            draw_overlay(
                load_frame(frame, box),
                OverlayInfo(
                    camera.location_name, frame.captured_at.astimezone(camera.tz), condition
                ),
                OverlayStyle(opts.overlay_style),
            )
        )
        for frame in newest_frames(camera)
    ]


@pytest.mark.parametrize(
    ("state", "level", "wording", "shown"),
    [
        (State.UNKNOWN, "", ConditionWording.SURFACE, None),
        (State.UNKNOWN, "", ConditionWording.LEVELS, None),
        (State.SNOW, Level.MODERATE, ConditionWording.SURFACE, "Moderate snow"),
        (State.SNOW, Level.MODERATE, ConditionWording.LEVELS, "Moderate"),
        (State.DRY, Level.CLEAR, ConditionWording.SURFACE, "Dry"),
        (State.DRY, Level.CLEAR, ConditionWording.LEVELS, "Clear"),
    ],
)
def test_it_names_the_published_state_in_the_chosen_wording(
    camera, state: str, level: str, wording: str, shown: str | None
) -> None:
    frames(camera, 5, START)
    published_reading(camera, state, level)
    opts = settings_for(camera)
    opts.condition_wording = wording
    opts.save()
    images = render_frames(camera, newest_frames(camera), opts)
    expected = overlaid(camera, opts, shown)
    assert all(np.array_equal(np.asarray(a), b) for a, b in zip(images, expected, strict=True))
    # The frames do differ by what they say: the reading's own Heavy is not shown.
    heavy = overlaid(camera, opts, "Heavy snow")
    assert not np.array_equal(np.asarray(images[0]), heavy[0])


@pytest.mark.parametrize(
    ("units", "shown", "other"),
    [("auto", Units.US, Units.METRIC), ("metric", Units.METRIC, Units.US)],
)
def test_it_draws_the_temperature_in_the_cameras_units(camera, units, shown, other):
    """In Denver the overlay says °F unless the camera was set to metric."""
    camera.latitude, camera.longitude, camera.time_zone = 39.74, -104.99, "America/Denver"
    camera.units = units
    camera.save()
    frames(camera, 5, START)
    reading = published_reading(camera, State.SNOW, Level.MODERATE)
    ConditionReading.objects.filter(pk=reading.pk).update(temperature_c=-3.0)
    opts = settings_for(camera)
    images = render_frames(camera, newest_frames(camera), opts)

    def drawn(units: Units) -> list[np.ndarray]:
        box = (opts.output_width, opts.output_height)
        images = []
        for frame in newest_frames(camera):
            local = frame.captured_at.astimezone(camera.tz)
            info = OverlayInfo(
                camera.location_name, local, "Moderate snow", temperature_c=-3.0, units=units
            )
            style = OverlayStyle(opts.overlay_style)
            images.append(np.asarray(draw_overlay(load_frame(frame, box), info, style)))
        return images

    expected, unexpected = drawn(shown), drawn(other)
    assert all(np.array_equal(np.asarray(a), b) for a, b in zip(images, expected, strict=True))
    assert not np.array_equal(np.asarray(images[0]), unexpected[0])


def test_it_orders_frames_oldest_first(camera):
    frames(camera, 7, START)
    chosen = newest_frames(camera)
    assert [f.captured_at for f in chosen] == sorted(f.captured_at for f in chosen)
    assert chosen[-1].captured_at == START + dt.timedelta(seconds=36)


def test_it_refuses_to_build_without_frames(camera):
    with pytest.raises(BuildError, match="No frames"):
        build_sequence(camera)


def test_it_records_a_failed_build_for_the_operator(camera, media_root):
    stored = frames(camera, 5, START)
    (Path(media_root) / stored[-1].file).write_bytes(b"not a jpeg")
    SequenceSettings.objects.create(camera=camera)
    assert "could not be decoded" in build_task(camera.pk)
    assert "could not be decoded" in SequenceSettings.objects.get(camera=camera).last_build_error
    assert not Sequence.objects.exists()


def test_it_exits_quietly_when_the_camera_is_gone(db):
    assert build_task(987654) == "camera gone"
