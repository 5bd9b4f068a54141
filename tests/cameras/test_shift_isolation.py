"""A camera whose server accepts connections and never answers must not delay another
camera's frames: both are real servers here, a silent TCP socket and gst-rtsp-server."""

from __future__ import annotations

import threading
import time

import pytest

from cameras.models import Camera, Frame, SourceKind
from cameras.runner import CaptureService

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_it_keeps_a_healthy_rtsp_camera_on_its_slots_while_another_hangs(
    rtsp_camera, silent_server, camera_password
):
    timing = {"update_interval_minutes": 1, "frames_per_sequence": 30}  # a slot every 2 s
    healthy = Camera.objects.create(
        name="healthy", slug="healthy", location_name="A", source_kind=SourceKind.RTSP,
        source_url=rtsp_camera.url, username="admin", password=camera_password, **timing,
    )  # fmt: skip
    hung = Camera.objects.create(
        name="hung", slug="hung", location_name="B", source_kind=SourceKind.RTSP,
        source_url=f"rtsp://127.0.0.1:{silent_server.port}/stream0", **timing,
    )  # fmt: skip
    stop = threading.Event()
    service = threading.Thread(target=CaptureService(node="test:1").run, args=(stop,))
    service.start()
    time.sleep(13)
    stop.set()
    service.join(timeout=15)

    taken = list(Frame.objects.filter(camera=healthy).order_by("captured_at"))
    assert len(taken) >= 5
    spacing = healthy.capture_spacing.total_seconds()
    # Every frame belongs to its own slot, and no slot was skipped after the first.
    slots = [round(f.captured_at.timestamp() / spacing) for f in taken]
    assert slots == list(range(slots[0], slots[0] + len(slots))), slots
    lateness = [f.captured_at.timestamp() - s * spacing for f, s in zip(taken, slots, strict=True)]
    # The first slot also opens the healthy camera's own session (a cold RTSP open, retried
    # once by the source when the server answers badly under load); every later slot runs
    # while the other camera hangs, and none of them may be held up by it.
    assert max(lateness[1:]) < 1.0, lateness
    assert lateness[0] < 3.0, lateness
    hung.refresh_from_db()
    assert not Frame.objects.filter(camera=hung).exists()
    assert hung.last_error == "Timed out."
    assert hung.health in ("degraded", "offline")
