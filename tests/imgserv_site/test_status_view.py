from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from analytics.kinds import Level, State
from analytics.models import ConditionReading
from cameras.models import Camera, Frame
from imgserv_site.views.status import stored_by_camera
from sequences.builder import build_sequence
from sequences.digest import build_day
from sequences.retention import stored_bytes
from tests.factories import demo_day, frames

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


def test_it_lists_each_camera_with_its_last_frame_and_sequence(client, camera):
    frames(camera, 5, START)
    camera.record_success(START)
    sequence = build_sequence(camera)
    body = client.get("/status").json()
    assert body["version"]
    [entry] = body["cameras"]
    assert entry["slug"] == camera.slug
    assert entry["health"] == "ok"
    assert entry["frames_stored"] == 5
    assert entry["last_sequence"]["frame_count"] == 5
    assert entry["last_sequence"]["id"] == sequence.pk
    assert entry["last_sequence"]["url"] == f"/sequence/{camera.slug}/latest"


def test_it_shows_a_capture_failure(client, camera):
    camera.record_failure("Blank frame: the image is a single colour.")
    [entry] = client.get("/status").json()["cameras"]
    assert entry["health"] == "degraded"
    assert entry["last_error"].startswith("Blank frame")


def test_it_never_shows_source_settings(client, camera):
    camera.source_settings = {"snow": True, "password": "hunter2-secret"}
    camera.save()
    assert b"hunter2-secret" not in client.get("/status").content


def reading(camera, state: str, level: str, reason: str) -> ConditionReading:
    """A reading two minutes old whose own state is also the published one."""
    return ConditionReading.objects.create(
        camera=camera, measured_at=timezone.now() - dt.timedelta(minutes=2), state=state,
        level=level, reason=reason, published_state=state, published_level=level,
        published_reason=reason, snow_coverage=0.4, wetness=0.1, ice_likelihood=0.0,
        brightness=0.5, confidence=0.7,
    )  # fmt: skip


def test_it_shows_the_published_road_state_in_both_wordings(client, camera):
    reading(camera, State.SNOW, Level.MODERATE, "snow on the road")
    [entry] = client.get("/status").json()["cameras"]
    conditions = entry["conditions"]
    assert (conditions["state"], conditions["style"]) == ("snow", "moderate")
    assert (conditions["label"], conditions["level"]) == ("Moderate snow", "Moderate")
    assert conditions["reason"] == "snow on the road"


def test_it_answers_unknown_as_a_state_with_its_reason_and_no_label(client, camera):
    reading(camera, State.UNKNOWN, "", "too uncertain to say: snow on the road")
    [entry] = client.get("/status").json()["cameras"]
    conditions = entry["conditions"]
    assert (conditions["state"], conditions["style"]) == ("unknown", "unknown")
    assert (conditions["label"], conditions["level"]) == (None, None)
    assert conditions["reason"] == "too uncertain to say: snow on the road"


def test_it_shows_no_state_before_the_first_reading(client, camera):
    [entry] = client.get("/status").json()["cameras"]
    conditions = entry["conditions"]
    assert (conditions["state"], conditions["label"], conditions["reason"]) == (None, None, "")


def on_disk(relative: str) -> int:
    return (Path(settings.MEDIA_ROOT) / relative).stat().st_size


def test_it_shows_storage_used_against_the_quota_from_real_frames(client, camera, settings):
    settings.MEDIA_QUOTA_MB = 50
    settings.MIN_FREE_DISK_MB = 123
    stored = frames(camera, 5, START)
    sequence = build_sequence(camera)
    other = Camera.objects.create(name="Side road", slug="side-road", location_name="Side road")
    frames(other, 2, START)
    body = client.get("/status").json()
    storage = body["storage"]
    frame_bytes = sum(on_disk(f.file) for f in Frame.objects.all())
    sequence_bytes = sum(on_disk(name) for name in (sequence.gif, sequence.mp4, sequence.webp))
    assert storage["frames"] == {
        "count": 7, "bytes": frame_bytes, "mb": round(frame_bytes / 2**20, 1)
    }  # fmt: skip
    assert storage["sequences"] == {
        "count": 1, "bytes": sequence_bytes, "mb": round(sequence_bytes / 2**20, 1)
    }  # fmt: skip
    used = frame_bytes + sequence_bytes
    assert (storage["used_bytes"], storage["used_mb"]) == (used, round(used / 2**20, 1))
    assert storage["quota_mb"] == 50
    assert storage["percent_used"] == round(100 * used / (50 * 2**20), 1)
    assert storage["percent_used"] > 0
    free = shutil.disk_usage(settings.MEDIA_ROOT).free // 2**20
    assert abs(storage["free_disk_mb"] - free) <= 1
    assert storage["min_free_disk_mb"] == 123
    by_slug = {c["slug"]: c for c in body["cameras"]}
    assert (by_slug[camera.slug]["frames_stored"], by_slug[camera.slug]["sequences_stored"]) == (
        len(stored),
        1,
    )
    assert by_slug[camera.slug]["stored_mb"] == round(
        (sum(on_disk(f.file) for f in stored) + sequence_bytes) / 2**20, 1
    )
    assert (by_slug["side-road"]["frames_stored"], by_slug["side-road"]["sequences_stored"]) == (
        2,
        0,
    )


def test_it_says_there_is_no_cap_when_the_quota_is_off(client, camera, settings):
    settings.MEDIA_QUOTA_MB = 0
    frames(camera, 1, START)
    storage = client.get("/status").json()["storage"]
    assert (storage["quota_mb"], storage["percent_used"]) == (None, None)
    assert storage["frames"]["count"] == 1


def test_it_shows_empty_storage_before_the_first_frame(client, db):
    storage = client.get("/status").json()["storage"]
    assert storage["used_bytes"] == 0
    empty = {"count": 0, "bytes": 0, "mb": 0.0}
    assert storage["frames"] == storage["sequences"] == storage["days"] == empty
    assert storage["percent_used"] == 0.0


def test_it_counts_storage_in_three_queries_whatever_the_number_of_cameras(
    camera, django_assert_num_queries
):
    for i in range(3):
        extra = Camera.objects.create(name=f"Road {i}", slug=f"road-{i}", location_name="Road")
        frames(extra, 2, START)
    with django_assert_num_queries(3):
        stored = stored_by_camera()
    assert sorted(s.frames for s in stored.values()) == [2, 2, 2]


def test_it_gives_the_temperature_in_the_cameras_units_beside_celsius(client, camera):
    camera.latitude, camera.longitude, camera.time_zone = 39.74, -104.99, "America/Denver"
    camera.save()
    found = reading(camera, State.SNOW, Level.LIGHT, "snow on the road")
    ConditionReading.objects.filter(pk=found.pk).update(temperature_c=-2.5)
    [entry] = client.get("/status").json()["cameras"]
    assert entry["units"] == "us"
    conditions = entry["conditions"]
    assert (conditions["temperature_c"], conditions["temperature"]) == (-2.5, "27.5 °F")
    assert conditions["units"] == "us"


def test_it_counts_days_at_a_glance_in_storage(client, camera):
    demo_day(camera, dt.date(2026, 11, 27), spacing_min=240)
    digest = build_day(camera, dt.date(2026, 11, 27))
    body = client.get("/status").json()
    day_bytes = on_disk(digest.mp4) + on_disk(digest.strip)
    assert body["storage"]["days"] == {
        "count": 1, "bytes": day_bytes, "mb": round(day_bytes / 2**20, 1)
    }  # fmt: skip
    frame_bytes = sum(on_disk(f.file) for f in Frame.objects.all())
    assert body["storage"]["used_bytes"] == frame_bytes + day_bytes == stored_bytes()
    assert body["cameras"][0]["days_stored"] == 1
