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
