"""Public pages built once per change: /status and the viewer from the web process's copy
until something they show changes (imgserv_site.freshness)."""

from __future__ import annotations

from django.utils import timezone

from cameras.models import Camera
from imgserv_site import freshness
from tests.factories import frames, live_worker


def test_it_builds_the_status_once_and_then_serves_it_without_a_query(
    client, camera, django_assert_num_queries
):
    live_worker()
    first = client.get("/status")
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = client.get("/status")
    assert again.content == first.content
    assert again["Content-Type"] == "application/json"


def test_a_stored_frame_builds_the_page_afresh(client, camera):
    before = client.get("/status").json()["cameras"][0]["frames_stored"]
    frames(camera, 1, timezone.now())
    freshness.mark_changed()  # the capture service's receiver does this on frame_stored
    assert client.get("/status").json()["cameras"][0]["frames_stored"] == before + 1


def test_a_saved_camera_marks_the_pages_stale_through_its_receiver(client, camera):
    client.get("/status")
    Camera.objects.filter(pk=camera.pk).update(location_name="Renamed Rd")
    assert b"Renamed Rd" not in client.get("/status").content  # nothing said it changed
    camera.refresh_from_db()
    camera.save()
    assert b"Renamed Rd" in client.get("/status").content


def test_it_rebuilds_after_a_few_seconds_even_without_a_change(client, camera, monkeypatch):
    client.get("/status")
    Camera.objects.filter(pk=camera.pk).update(location_name="Quietly Renamed")
    monkeypatch.setattr(freshness, "REBUILD_AFTER", 0.0)
    assert b"Quietly Renamed" in client.get("/status").content


def test_a_signed_in_operator_always_gets_a_fresh_page(admin_client, camera):
    admin_client.get("/status")
    Camera.objects.filter(pk=camera.pk).update(location_name="Admin Sees This")
    assert b"Admin Sees This" in admin_client.get("/status").content


def test_it_answers_head_from_the_copy_with_no_body(client, camera):
    body = client.get("/").content
    head = client.head("/")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head["Content-Length"]) == len(body)


def test_only_the_listed_pages_are_kept():
    assert freshness.fresh_page("/") and freshness.fresh_page("/camera/main-street/iframe")
    assert not freshness.fresh_page("/api/cameras/")
    assert not freshness.fresh_page("/admin/")
