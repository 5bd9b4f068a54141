"""Must-show: a rig camera stopped and started again, captured through the real capture path
(HTTP snapshot source, `capture_frame`), is told offline once and back once, to a real SMTP
server (aiosmtpd) and a real webhook receiver that verifies each signature; nothing more while
it stays down, however long and however often it is checked."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from cameras.capture import capture_frame
from cameras.models import OFFLINE_AFTER_FAILURES, Camera, Health, SourceKind
from cameras.sources import open_source
from notifications import tasks
from notifications.models import Channel, Delivery, DeliveryStatus, NotificationTarget
from tests.rig.snapshot_server import SnapshotServer

pytestmark = pytest.mark.integration
PASSWORD = "rig-password-1"


def grab(camera: Camera) -> bool:
    """One slot as the capture service runs it: a session opened for the grab."""
    source = open_source(camera)
    try:
        return capture_frame(camera, source) is not None
    finally:
        source.close()


def test_a_stopped_rig_camera_is_told_offline_once_and_back_once(
    transactional_db, sync_tasks, smtp, webhook, secret
):
    NotificationTarget.objects.create(
        name="hook", channel=Channel.WEBHOOK, url=webhook.url(), secret=secret
    )
    NotificationTarget.objects.create(name="mail", channel=Channel.EMAIL, email="ops@example.org")
    rig = SnapshotServer(password=PASSWORD)
    camera = Camera.objects.create(
        name="Rig Camera",
        slug="rig",
        location_name="Test bench",
        source_kind=SourceKind.HTTP,
        source_url=rig.url(),
        username=rig.username,
        password=PASSWORD,
        capture_width=640,
        capture_height=480,
    )
    try:
        assert grab(camera)
        rig.stop()
        # Offline after OFFLINE_AFTER_FAILURES grabs; then it stays down for three more.
        for _ in range(OFFLINE_AFTER_FAILURES + 3):
            assert not grab(camera)
        camera.refresh_from_db()
        assert camera.health == Health.OFFLINE
        assert [h.json["event"] for h in webhook.received] == ["camera.offline"]
        assert len(smtp.messages) == 1

        # Still down an hour later, with the rate limit long passed: checked again, nothing.
        with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
            tasks.camera_health(camera.pk)
            tasks.check()
        assert len(webhook.received) == 1 and len(smtp.messages) == 1

        rig = SnapshotServer(password=PASSWORD, port=rig.port)  # the camera is back
        assert grab(camera)
    finally:
        rig.stop()

    offline, back = webhook.received
    assert offline.signature_ok and back.signature_ok
    assert offline.path == back.path == "/hooks/imgserv"
    assert offline.headers["X-Imgserv-Event"] == "camera.offline"
    assert [back.json["event"], back.json["incident"]] == ["camera.back", offline.json["incident"]]
    assert offline.json["camera"] == {"slug": "rig", "name": "Rig Camera"}
    assert offline.json["summary"] == "Camera Rig Camera is offline"
    assert offline.json["details"]["error"] == "Host unreachable (connection refused)."
    assert offline.json["details"]["failures"] == OFFLINE_AFTER_FAILURES
    assert PASSWORD not in offline.body.decode()

    subjects = [m["Subject"] for m in smtp.messages]
    assert subjects == [
        "[imgserv] Camera Rig Camera is offline",
        "[imgserv] Camera Rig Camera is back",
    ]
    assert smtp.inbox.recipients == [["ops@example.org"], ["ops@example.org"]]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
