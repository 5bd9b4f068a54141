from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image, ImageSequence

from sequences.models import Sequence, SequenceSettings
from tests.factories import frames

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


def test_it_builds_gif_mp4_and_webp_with_exact_durations(camera, media_root):
    call_command("camera", "update", camera.name, "--frames", "10", "--frame-duration", "0.5",
                 stdout=StringIO())  # fmt: skip
    assert SequenceSettings.objects.get(camera=camera).duration_ms == 500
    frames(camera, 10, START)
    out = StringIO()
    call_command("sequence", "build", camera.name, stdout=out)
    text = out.getvalue()
    assert "Built 10 frames of 500 ms" in text
    for suffix in (".gif", ".mp4", ".webp"):
        assert suffix in text
    sequence = Sequence.objects.get()
    with Image.open(media_root / sequence.gif) as gif:
        assert gif.info["loop"] == 0
        assert [f.info["duration"] for f in ImageSequence.Iterator(gif)] == [500] * 10
    import av

    with av.open(str(media_root / sequence.mp4)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 10
    with Image.open(media_root / sequence.webp) as webp:
        assert getattr(webp, "n_frames", 1) == 10
        assert webp.info["loop"] == 0
    # Each frame carries its own capture time in the overlay's bottom bar.
    with Image.open(media_root / sequence.gif) as gif:
        bars = {
            f.convert("RGB").crop((f.width // 2, int(f.height * 0.9), f.width, f.height)).tobytes()
            for f in ImageSequence.Iterator(gif)
        }
    assert len(bars) == 10


def test_it_says_which_camera_is_unknown(db):
    with pytest.raises(CommandError, match="No camera named “ghost”"):
        call_command("sequence", "build", "ghost", stdout=StringIO())


def test_it_says_when_there_is_nothing_to_build(camera):
    with pytest.raises(CommandError, match="No frames captured yet"):
        call_command("sequence", "build", camera.slug, stdout=StringIO())
