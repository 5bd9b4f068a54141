from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cameras.models import Camera


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("frames_per_sequence", 4, "greater than or equal to 5"),
        ("frames_per_sequence", 31, "less than or equal to 30"),
        ("update_interval_minutes", 3, "not a valid choice"),
        ("time_zone", "Mars/Olympus", "not a known time zone"),
        ("latitude", 91, "less than or equal to 90"),
    ],
)
def test_it_refuses_bad_values_with_a_message_naming_the_field(camera, field, value, message):
    setattr(camera, field, value)
    with pytest.raises(ValidationError) as info:
        camera.save()
    assert field in info.value.message_dict
    assert message in " ".join(info.value.message_dict[field])


def test_it_spaces_frames_over_the_update_interval(camera):
    camera.update_interval_minutes = 5
    camera.frames_per_sequence = 10
    assert camera.capture_spacing == dt.timedelta(seconds=30)


def test_it_aligns_slots_to_the_clock_so_they_never_drift(camera):
    camera.update_interval_minutes = 1
    camera.frames_per_sequence = 10
    start = dt.datetime(2026, 11, 28, 12, 0, 1, 500000, tzinfo=dt.UTC)
    slots = camera.slots_between(start, start + dt.timedelta(seconds=30))
    assert [s.second for s in slots] == [6, 12, 18, 24, 30]
    assert all(s.microsecond == 0 for s in slots)


def test_it_marks_a_camera_offline_after_repeated_failures(camera):
    for _ in range(3):
        camera.record_failure("Host unreachable.")
    camera.refresh_from_db()
    assert camera.health == "offline"
    assert camera.consecutive_failures == 3
    assert camera.last_error == "Host unreachable."


def test_it_marks_a_camera_degraded_after_one_failure(camera):
    camera.record_failure("Timed out.")
    camera.refresh_from_db()
    assert camera.health == "degraded"


def test_it_clears_the_error_on_success(camera):
    camera.record_failure("Timed out.")
    camera.record_success(dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    camera.refresh_from_db()
    assert (camera.health, camera.consecutive_failures, camera.last_error) == ("ok", 0, "")


def test_it_keeps_a_camera_name_unique(camera):
    with pytest.raises(ValidationError):
        Camera.objects.create(name="Main Street", slug="other", location_name="x")


def test_it_backs_off_exponentially_with_jitter_up_to_a_cap(camera):
    import random

    rng = random.Random(1)
    delays = []
    for failures in (1, 2, 3, 4, 20):
        camera.consecutive_failures = failures
        delays.append(camera.retry_delay(rng).total_seconds())
    assert 1 <= delays[0] <= 2
    assert 2 <= delays[1] <= 4
    assert 4 <= delays[2] <= 8
    assert 150 <= delays[4] <= 300


def test_it_masks_the_password_in_the_shown_url(camera):
    camera.source_kind = "rtsp"
    camera.source_url = "rtsp://10.0.0.5:554/Streaming/101"
    camera.username, camera.password = "admin", "s3cret-pw"
    assert camera.masked_url == "rtsp://admin:***@10.0.0.5:554/Streaming/101"


def test_it_refuses_credentials_inside_the_url(camera):
    camera.source_kind = "rtsp"
    camera.source_url = "rtsp://admin:s3cret@10.0.0.5/stream"
    with pytest.raises(ValidationError, match="own fields"):
        camera.save()


def test_it_needs_a_url_for_a_real_camera(camera):
    camera.source_kind = "http"
    with pytest.raises(ValidationError, match="URL is needed"):
        camera.save()
