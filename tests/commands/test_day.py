from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from sequences.models import DayDigest
from tests.factories import demo_day

DAY = dt.date(2026, 12, 15)


def run(*args: str) -> str:
    out = StringIO()
    call_command("day", *args, stdout=out)
    return out.getvalue()


def test_it_builds_a_day_and_prints_the_sun_times_and_files(camera, media_root):
    camera.latitude, camera.longitude, camera.time_zone = 39.7392, -104.9903, "America/Denver"
    camera.save()
    demo_day(camera, DAY, spacing_min=60)
    out = run("build", camera.name, "--date", DAY.isoformat())
    assert "Main Street on 2026-12-15: Built; sunrise 07:14, sunset 16:36 (America/Denver)" in out
    assert "24 frames in the strip, 9 in the timelapse, 0 unreadable" in out
    assert out.count(str(media_root)) == 2
    assert DayDigest.objects.get().daylight_frames == 9


def test_it_builds_yesterday_by_default(camera):
    with time_machine.travel(dt.datetime(2026, 12, 16, 15, 0, tzinfo=dt.UTC), tick=False):
        out = run("build", camera.slug)
    assert "Main Street on 2026-12-15: No frames that day" in out


def test_it_refuses_an_unknown_camera_or_a_bad_date(camera):
    with pytest.raises(CommandError, match="No camera named"):
        run("build", "nowhere")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("build", camera.slug, "--date", "15/12/2026")
