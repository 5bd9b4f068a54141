from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cameras.models import Camera, Frame
from sequences.models import SequenceSettings


def run(*args: str) -> str:
    out = StringIO()
    call_command("camera", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_it_adds_a_camera_with_its_sequence_options(db):
    text = run(
        "add", "Hill Road", "--url", "demo:", "--update-interval", "2", "--frames", "12",
        "--frame-duration", "0.5", "--optimisation", "aggressive", "--overlay", "minimal",
    )  # fmt: skip
    assert "Added Hill Road" in text
    camera = Camera.objects.get(slug="hill-road")
    assert (camera.update_interval_minutes, camera.frames_per_sequence) == (2, 12)
    opts = SequenceSettings.objects.get(camera=camera)
    assert (opts.duration_ms, opts.optimisation, opts.overlay_style) == (
        500,
        "aggressive",
        "minimal",
    )


def test_it_moves_url_credentials_out_of_the_stored_url(db, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from-file-pw\n")
    run("add", "Gate", "--url", "rtsp://10.1.2.3:554/live", "--username", "op",
        "--password-file", str(secret))  # fmt: skip
    camera = Camera.objects.get(name="Gate")
    assert (camera.source_url, camera.username, camera.password) == (
        "rtsp://10.1.2.3:554/live", "op", "from-file-pw",
    )  # fmt: skip
    assert "from-file-pw" not in run("list")
    assert "rtsp://op:***@10.1.2.3:554/live" in run("list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frames", "40"], "--frames: Ensure this value is less than or equal to 30"),
        (["--update-interval", "3"], "--update-interval: Value 3 is not a valid choice"),
        (
            ["--frame-duration", "9"],
            "--frame-duration: Ensure this value is less than or equal to 5.0",
        ),
        (["--frame-duration", "soon"], "--frame-duration must be a number"),
        (["--url", "ftp://x/y"], "Unsupported URL scheme “ftp”"),
    ],
)
def test_it_refuses_bad_options_naming_them(camera, args, message):
    with pytest.raises(CommandError) as info:
        run("update", camera.name, *args)
    assert message.lower() in str(info.value).lower()


def test_it_lists_removes_and_says_what_is_unknown(camera):
    assert camera.name in run("list")
    run("remove", camera.name)
    assert not Camera.objects.exists()
    with pytest.raises(CommandError, match="No camera named"):
        run("check", "nothing-here")


def test_it_checks_a_demo_camera_and_reports_time_and_size(camera):
    text = run("check", camera.slug)
    assert "OK in" in text and " ms, 640×360" in text


def test_it_captures_frames_in_a_burst(camera):
    run("capture", camera.slug, "--count", "3", "--burst")
    assert Frame.objects.filter(camera=camera).count() == 3


def test_it_adds_a_camera_with_its_place_and_says_which_units_follow(db):
    text = run(
        "add", "Vail Pass", "--url", "demo:", "--location", "I-70 at Vail Pass",
        "--latitude", "39.53", "--longitude", "-106.22", "--time-zone", "America/Denver",
    )  # fmt: skip
    camera = Camera.objects.get(slug="vail-pass")
    assert (camera.location_name, camera.latitude, camera.longitude, camera.time_zone) == (
        "I-70 at Vail Pass", 39.53, -106.22, "America/Denver",
    )  # fmt: skip
    assert camera.units == "auto"
    assert "units: US (°F, inches) (from the location)" in text
    assert "39.53, -106.22" in text


def test_it_updates_the_place_and_the_units(camera, settings):
    settings.UNITS = "auto"
    text = run("update", camera.name, "--latitude", "59.91", "--longitude", "10.75",
               "--time-zone", "Europe/Oslo")  # fmt: skip
    assert "units: Metric (°C, cm) (from the location)" in text
    text = run("update", camera.name, "--units", "us")
    camera.refresh_from_db()
    assert (camera.latitude, camera.longitude, camera.time_zone) == (59.91, 10.75, "Europe/Oslo")
    assert camera.units == "us"
    assert "units: US (°F, inches) (chosen for this camera)" in text
    run("update", camera.name, "--units", "auto")
    settings.UNITS = "us"
    assert "(the site's UNITS)" in run("update", camera.name)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--latitude", "95"], "--latitude: 95 is out of range: degrees from -90 to 90"),
        (["--latitude", "north"], "--latitude: “north” is not a number of degrees"),
        (["--longitude", "-190"], "--longitude: -190 is out of range: degrees from -180 to 180"),
        (["--longitude", "nan"], "--longitude: “nan” is not a number of degrees"),
        (["--time-zone", "America/Denvr"], "unknown time zone “America/Denvr”: did you mean "
         "America/Denver"),
        (["--time-zone", "europe/oslo"], "did you mean Europe/Oslo?"),
        (["--time-zone", "Mars/Olympus"], "unknown time zone “Mars/Olympus”: e.g. America/Denver"),
        (["--latitude", "39.7"], "--longitude: Give both latitude and longitude, or neither."),
        (["--units", "imperial"], "--units: invalid choice: 'imperial'"),
    ],
)  # fmt: skip
def test_it_refuses_a_bad_place_or_units_naming_the_option(camera, args, message):
    with pytest.raises(CommandError) as info:
        run("update", camera.name, *args)
    assert message in str(info.value)
    camera.refresh_from_db()
    assert (camera.latitude, camera.longitude, camera.time_zone, camera.units) == (
        None, None, "America/New_York", "auto",
    )  # fmt: skip


def test_it_takes_negative_degrees_and_a_real_minus_sign(db):
    run("add", "South", "--url", "demo:", "--latitude", "−33.87", "--longitude", "151.21")
    run("add", "West", "--url", "demo:", "--latitude", "40.71", "--longitude", "-74.0")
    assert Camera.objects.get(name="South").latitude == -33.87
    assert Camera.objects.get(name="West").longitude == -74.0
