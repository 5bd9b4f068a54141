"""/api/cameras/<slug>/days: a camera's days at a glance, with links that serve the files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import av
from PIL import Image

from sequences.choices import DigestStatus, SunPath
from sequences.digest import build_day
from tests.factories import demo_day

DAY = dt.date(2026, 11, 27)


def test_it_lists_the_days_with_sun_times_and_working_file_links(api, camera, media_root):
    camera.latitude, camera.longitude = 40.71, -74.0
    camera.save()
    demo_day(camera, DAY, spacing_min=60)
    digest = build_day(camera, DAY)
    build_day(camera, DAY - dt.timedelta(days=1))  # no frames that day

    response = api.get(f"/api/cameras/{camera.slug}/days")

    assert response.status_code == 200
    body = response.json()
    assert (body["camera"], body["time_zone"]) == (camera.slug, "America/New_York")
    newest, older = body["days"]
    assert newest["date"] == "2026-11-27"
    assert newest["status"] == DigestStatus.BUILT
    assert newest["sun_path"] == SunPath.RISES_AND_SETS
    assert dt.datetime.fromisoformat(newest["sunrise"]) == digest.sunrise
    assert dt.datetime.fromisoformat(newest["sunset"]) == digest.sunset
    assert newest["frame_count"] == 24
    assert newest["daylight_frames"] == digest.daylight_frames == 10  # 07:00 … 16:00
    assert newest["mp4_url"] == f"/sequence/{camera.slug}/day/2026-11-27.mp4"
    assert (older["status"], older["mp4_url"], older["strip_url"]) == ("no_frames", None, None)

    video = api.get(newest["mp4_url"])
    assert video.status_code == 200
    assert video["Content-Type"] == "video/mp4"
    saved = Path(media_root) / "clip.mp4"
    saved.write_bytes(b"".join(video.streaming_content))
    with av.open(str(saved)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 10
    strip = api.get(newest["strip_url"])
    assert strip["Content-Type"] == "image/png"
    saved = Path(media_root) / "strip.png"
    saved.write_bytes(b"".join(strip.streaming_content))
    assert Image.open(saved).width == 24 * 60


def test_it_answers_404_for_an_unknown_camera_or_day(api, camera):
    assert api.get("/api/cameras/nope/days").status_code == 404
    assert api.get(f"/sequence/{camera.slug}/day/2026-11-27.png").status_code == 404
    assert api.get(f"/sequence/{camera.slug}/day/yesterday.png").status_code == 404


def test_it_lists_no_days_before_the_first_is_built(api, camera):
    body = api.get(f"/api/cameras/{camera.slug}/days").json()
    assert body["days"] == []
