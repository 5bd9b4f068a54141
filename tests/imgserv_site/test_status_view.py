from __future__ import annotations

import datetime as dt

from django.utils import timezone

from analytics.kinds import Level, State
from analytics.models import ConditionReading
from sequences.builder import build_sequence
from tests.factories import frames

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
