"""A webhook or mail server that never answers delays neither capture nor anything else that
sends signals: the receivers only queue, and the delivery task gives up on its own timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django_q.models import OrmQ

from cameras.capture import capture_frame
from cameras.models import OFFLINE_AFTER_FAILURES, Health
from cameras.sources import CaptureError, Grab
from notifications import tasks
from notifications.models import Channel, Delivery, DeliveryStatus, NotificationTarget
from tests.rig.silent_server import SilentServer


class DeadSource:
    deadline_s = 5.0

    def grab(self) -> Grab:
        raise CaptureError(message="Host unreachable (connection refused).")

    def close(self) -> None:
        pass


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


def test_a_hung_webhook_never_delays_capture(transactional_db, camera, silent, settings):
    if settings.Q_CLUSTER.get("redis"):
        pytest.skip("counts the ORM broker's queue")
    settings.NOTIFY_TIMEOUT_S = 0.5
    NotificationTarget.objects.create(
        name="hung",
        channel=Channel.WEBHOOK,
        url=f"http://127.0.0.1:{silent.port}/hook",
        secret="s" * 16,
    )
    started = time.monotonic()
    for _ in range(OFFLINE_AFTER_FAILURES):
        capture_frame(camera, DeadSource())
    assert time.monotonic() - started < 0.5 * OFFLINE_AFTER_FAILURES
    camera.refresh_from_db()
    assert camera.health == Health.OFFLINE
    assert OrmQ.objects.count() == 1  # the offline check: queued, not run

    # The worker runs them: the delivery fails on its timeout and waits for its retry.
    tasks.camera_health(camera.pk)
    [delivery] = Delivery.objects.all()
    started = time.monotonic()
    assert tasks.deliver(delivery.pk).startswith("failed")
    assert time.monotonic() - started < 3
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED
    assert (
        delivery.last_error == f"http://127.0.0.1:{silent.port}/… could not be reached: timed out"
    )
