from __future__ import annotations

import datetime as dt

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
