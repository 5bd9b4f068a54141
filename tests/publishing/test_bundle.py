from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from analytics.kinds import Level, State
from analytics.models import ConditionReading, ForecastSnapshot
from analytics.weather import Hour
from publishing.bundle import build_bundle
from sequences.digest import build_day
from tests.factories import demo_day
from tests.publishing.conftest import CAMERA_HOST, CAMERA_PASSWORD


def test_it_writes_pages_assets_and_latest_files_per_camera(build, tmp_path):
    build()
    bundle = build_bundle(tmp_path / "out")
    names = sorted(str(p.relative_to(bundle.path)) for p in bundle.path.rglob("*") if p.is_file())
    assert names == [
        "iframe.html",
        "index.html",
        "main-street/latest.gif",
        "main-street/latest.jpg",
        "main-street/latest.mp4",
        "main-street/latest.webp",
        "status.json",
        "style.css",
        "viewer.js",
    ]
    assert bundle.files == 9
    assert (bundle.path / "main-street/latest.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_it_publishes_only_the_newest_sequence(build, tmp_path):
    build()
    newest = build()
    bundle = build_bundle(tmp_path / "out")
    assert bundle.sequence_ids == [newest.pk]
    media = Path(settings.MEDIA_ROOT)
    assert (bundle.path / "main-street/latest.gif").read_bytes() == (
        media / newest.gif
    ).read_bytes()


def test_it_writes_public_fields_and_relative_urls_in_status_json(build, tmp_path):
    sequence = build()
    bundle = build_bundle(tmp_path / "out")
    status = json.loads((bundle.path / "status.json").read_text())
    camera = status["cameras"][0]
    assert camera["name"] == "Main Street"
    assert camera["location_name"] == "Main St at 5th Ave"
    assert camera["built_at"] == sequence.built_at.isoformat()
    assert camera["files"]["mp4"] == "main-street/latest.mp4"
    assert set(camera) <= {
        "slug", "name", "location_name", "time_zone", "update_interval_minutes",
        "stale_after_seconds", "built_at", "first_captured_at", "last_captured_at",
        "newest_frame_at", "frame_count", "units", "width", "height", "files", "condition",
        "temperature_c", "temperature", "alerts",
    }  # fmt: skip
    # No analytics reading exists: the bundle says nothing rather than guessing.
    assert "condition" not in camera


def reading(camera, state: str, level: str, reason: str) -> ConditionReading:
    """A reading a minute old whose own state is also the published one."""
    return ConditionReading.objects.create(
        camera=camera, measured_at=timezone.now() - dt.timedelta(minutes=1), state=state,
        level=level, reason=reason, published_state=state, published_level=level,
        published_reason=reason, snow_coverage=0.4, wetness=0.1, ice_likelihood=0.0,
        brightness=0.5, confidence=0.7,
    )  # fmt: skip


def test_it_publishes_the_road_state_with_its_label_and_reason(build, secret_camera, tmp_path):
    build()
    found = reading(secret_camera, State.SNOW, Level.MODERATE, "snow on the road")
    bundle = build_bundle(tmp_path / "out")
    [camera] = json.loads((bundle.path / "status.json").read_text())["cameras"]
    assert camera["condition"] == {
        "state": "snow",
        "label": "Moderate snow",
        "level": "Moderate",
        "style": "moderate",
        "reason": "snow on the road",
        "measured_at": found.measured_at.isoformat(),
    }
    html = (bundle.path / "index.html").read_text()
    assert (
        '<span class="condition level-moderate" title="snow on the road">Road: Moderate snow</span>'
        in html
    )


def test_it_publishes_unknown_as_a_state_with_its_reason(build, secret_camera, tmp_path):
    build()
    why = "picture and weather disagree: looks like snow, but too warm"
    reading(secret_camera, State.UNKNOWN, "", why)
    bundle = build_bundle(tmp_path / "out")
    [camera] = json.loads((bundle.path / "status.json").read_text())["cameras"]
    condition = camera["condition"]
    assert (condition["state"], condition["style"], condition["reason"]) == (
        "unknown",
        "unknown",
        why,
    )
    assert (condition["label"], condition["level"]) == (None, None)
    for page in ("index.html", "iframe.html"):
        html = (bundle.path / page).read_text()
        assert f'<span class="condition level-unknown" title="{why}">Road: —</span>' in html


def test_it_leaves_out_every_secret_and_internal_detail(build, tmp_path):
    build()
    bundle = build_bundle(tmp_path / "out")
    forbidden = [
        CAMERA_PASSWORD,
        CAMERA_HOST,
        "admin",
        "ISAPI",
        str(settings.MEDIA_ROOT),
        str(settings.DATA_DIR),
        "sequences/main-street",
        "frames/main-street",
    ]
    for path in bundle.path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for word in forbidden:
                assert word.encode() not in data, f"{word!r} leaked into {path.name}"


def test_it_loads_the_script_from_a_file_and_has_no_inline_script(build, tmp_path):
    build()
    bundle = build_bundle(tmp_path / "out")
    for page in ("index.html", "iframe.html"):
        html = (bundle.path / page).read_text()
        assert '<script src="viewer.js" defer></script>' in html
        assert html.count("<script") == 1
        assert 'poster="main-street/latest.jpg"' in html
        assert 'src="main-street/latest.mp4"' in html
        assert "style=" not in html


def test_it_still_publishes_pages_when_no_sequence_exists_yet(db, tmp_path):
    bundle = build_bundle(tmp_path / "out")
    assert "No pictures have been published yet" in (bundle.path / "index.html").read_text()
    assert json.loads((bundle.path / "status.json").read_text())["cameras"] == []


def snowy_forecast(camera) -> None:
    """A current forecast at −3 °C with 1 cm of snow an hour from six hours ahead."""
    now = timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0)
    hours = [
        Hour(start + dt.timedelta(hours=i), temperature_c=-3.0, snowfall_cm=1.0 if i > 5 else 0)
        for i in range(30)
    ]
    ForecastSnapshot.objects.create(
        camera=camera, provider="nws", fetched_at=now, expires_at=now + dt.timedelta(hours=6),
        current_temperature_c=-2.5, hourly=[h.to_json() for h in hours],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("place", "units", "temperature", "amount"),
    [
        ((39.74, -104.99, "America/Denver"), "us", "27.5 °F", " in from "),
        ((59.91, 10.75, "Europe/Oslo"), "metric", "−2.5 °C", " cm from "),
    ],
)
def test_it_publishes_temperature_and_alerts_in_the_cameras_units(
    build, secret_camera, tmp_path, place, units, temperature, amount
):
    secret_camera.latitude, secret_camera.longitude, secret_camera.time_zone = place
    secret_camera.save()
    build()
    reading(secret_camera, State.SNOW, Level.LIGHT, "snow on the road")
    snowy_forecast(secret_camera)
    bundle = build_bundle(tmp_path / "out")
    [camera] = json.loads((bundle.path / "status.json").read_text())["cameras"]
    # temperature_c stays for existing consumers; the text is what the page shows.
    assert (camera["temperature_c"], camera["temperature"]) == (-2.5, temperature)
    assert camera["units"] == units
    [snow] = [a for a in camera["alerts"] if a.startswith("Snow")]
    assert amount in snow
    for page in ("index.html", "iframe.html"):
        html = (bundle.path / page).read_text()
        assert f'<span class="temperature">{temperature}</span>' in html
        assert f"<li>{snow}</li>" in html


def test_it_publishes_the_newest_day_at_a_glance(build, secret_camera, tmp_path):
    sequence = build()
    secret_camera.latitude, secret_camera.longitude = 40.71, -74.0
    secret_camera.save()
    day = dt.date(2026, 11, 27)
    demo_day(secret_camera, day - dt.timedelta(days=1), spacing_min=240)
    build_day(secret_camera, day - dt.timedelta(days=1))
    demo_day(secret_camera, day, spacing_min=60)
    newest = build_day(secret_camera, day)

    bundle = build_bundle(tmp_path / "out")

    media = Path(settings.MEDIA_ROOT)
    folder = bundle.path / "main-street"
    assert (folder / "day.mp4").read_bytes() == (media / newest.mp4).read_bytes()
    assert (folder / "day.png").read_bytes() == (media / newest.strip).read_bytes()
    assert bundle.sequence_ids == [sequence.pk]
    entry = json.loads((bundle.path / "status.json").read_text())["cameras"][0]
    assert entry["day"]["date"] == "2026-11-27"
    assert entry["day"]["files"] == {"png": "main-street/day.png", "mp4": "main-street/day.mp4"}
    assert newest.sunrise is not None
    assert entry["day"]["sunrise"] == newest.sunrise.astimezone(secret_camera.tz).isoformat()
    assert entry["day"]["sunrise"].startswith("2026-11-27T06:")
    assert entry["day"]["daylight_frames"] == 10
    page = (bundle.path / "index.html").read_text()
    assert 'src="main-street/day.png"' in page
    assert 'href="main-street/day.mp4"' in page
    assert "sunrise 06:" in page
