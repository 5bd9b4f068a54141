"""Days at a glance on demand from the admin: queued for the worker, built there."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from sequences.choices import DigestStatus
from sequences.models import DayDigest
from tests.factories import demo_day

DAY = dt.date(2026, 11, 27)
NEXT_MORNING = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-tests"))
    return client


def test_it_builds_yesterday_for_the_chosen_cameras(
    staff_client, camera, sync_tasks, django_capture_on_commit_callbacks
):
    demo_day(camera, DAY, spacing_min=120)
    with (
        time_machine.travel(NEXT_MORNING, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = staff_client.post(
            "/admin/cameras/camera/",
            {"action": "build_yesterday", "_selected_action": [camera.pk]},
            follow=True,
        )
    assert "Queued yesterday at a glance for 1 camera(s)." in response.content.decode()
    digest = DayDigest.objects.get()
    assert (digest.date, digest.status, digest.frame_count) == (DAY, DigestStatus.BUILT, 12)


def test_it_builds_a_day_again_and_lists_the_days(
    staff_client, camera, sync_tasks, django_capture_on_commit_callbacks
):
    demo_day(camera, DAY, spacing_min=120)
    failed = DayDigest.objects.create(
        camera=camera, date=DAY, status=DigestStatus.FAILED, last_error="Could not write."
    )
    listing = staff_client.get("/admin/sequences/daydigest/").content.decode()
    assert "Could not write." in listing
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            "/admin/sequences/daydigest/",
            {"action": "build_again", "_selected_action": [failed.pk]},
        )
    failed.refresh_from_db()
    assert (failed.status, failed.last_error, failed.frame_count) == (DigestStatus.BUILT, "", 12)
