"""Adding an ONVIF camera by host and port: the device's profiles and URIs are discovered,
stored, and used for capture (here a local SOAP device pointing at the rig's snapshot camera)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cameras.models import Camera, Frame


def run(*args: str) -> str:
    out = StringIO()
    call_command("camera", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def password_file(tmp_path, camera_password):
    path = tmp_path / "pw"
    path.write_text(camera_password)
    return str(path)


def test_it_discovers_stores_and_captures_through_the_onvif_uris(
    db, make_onvif_device, snapshot_camera, password_file, camera_password
):
    device = make_onvif_device()
    text = run("add", "Bridge", "--url", f"onvif://127.0.0.1:{device.port}",
               "--username", "admin", "--password-file", password_file)  # fmt: skip
    assert camera_password not in text
    camera = Camera.objects.get(name="Bridge")
    assert camera.source_kind == "onvif"
    assert camera.source_settings["snapshot_uri"] == snapshot_camera.url()
    assert camera.source_settings["stream_uri"].startswith("rtsp://127.0.0.1:")
    assert "OK in" in run("check", "Bridge")
    run("capture", "Bridge", "--count", "2", "--burst")
    assert Frame.objects.filter(camera=camera).count() >= 1


def test_it_refuses_an_onvif_device_with_the_wrong_password(db, make_onvif_device, tmp_path):
    device = make_onvif_device()
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password")
    with pytest.raises(CommandError, match="Authentication failed"):
        run("add", "Bridge", "--url", f"onvif://127.0.0.1:{device.port}",
            "--username", "admin", "--password-file", str(wrong))  # fmt: skip
    assert not Camera.objects.exists()
