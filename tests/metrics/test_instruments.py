"""The counts the processes keep: stored frames, their lateness after the slot, build times.
Counted into this process's folder and read back through /metrics, as a scrape would."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cameras.models import Frame
from cameras.signals import frame_stored
from imgserv_site.metrics.instruments import slot_of
from sequences.models import Sequence
from tests.metrics.scrape import value


def scrape(client) -> str:
    return client.get("/metrics").content.decode()


def stored(camera, at: dt.datetime) -> Frame:
    frame = Frame.objects.create(
        camera=camera, captured_at=at, file="f.jpg", size_bytes=1, width=1, height=1, sha256="x"
    )
    frame_stored.send(sender=Frame, frame=frame)
    return frame


def test_slots_are_aligned_to_the_epoch_like_the_capture_service(camera):
    from cameras.runner import next_slot

    at = dt.datetime(2026, 1, 10, 12, 0, 7, 300000, tzinfo=dt.UTC)  # spacing: 12 s
    assert slot_of(camera, at) == dt.datetime(2026, 1, 10, 12, 0, 0, tzinfo=dt.UTC)
    assert next_slot(camera, slot_of(camera, at)) == slot_of(camera, at)
    on_slot = dt.datetime(2026, 1, 10, 12, 0, 12, tzinfo=dt.UTC)
    assert slot_of(camera, on_slot) == on_slot


def test_each_stored_frame_counts_with_its_lateness(client, camera):
    before = scrape(client)
    count = value(before, "imgserv_frames_captured_total", camera="main-street") or 0
    name = "imgserv_capture_lateness_seconds_bucket"
    on_time = value(before, name, camera="main-street", le="0.5") or 0
    within_5s = value(before, name, camera="main-street", le="5.0") or 0
    slot = dt.datetime(2026, 1, 10, 12, 0, 0, tzinfo=dt.UTC)
    stored(camera, slot + dt.timedelta(seconds=0.3))
    stored(camera, slot + dt.timedelta(seconds=12 + 4))
    after = scrape(client)
    assert value(after, "imgserv_frames_captured_total", camera="main-street") == count + 2
    # Earlier tests in the run may have counted frames already: compare with before.
    assert value(after, name, camera="main-street", le="0.5") == on_time + 1
    assert value(after, name, camera="main-street", le="5.0") == within_5s + 2


def test_each_build_counts_its_time(client, camera):
    name = "imgserv_sequence_build_seconds_count"
    before = value(scrape(client), name, camera="main-street") or 0
    now = timezone.now()
    sequence = Sequence.objects.create(
        camera=camera,
        gif="s.gif",
        gif_bytes=1,
        width=1,
        height=1,
        frame_count=5,
        frame_duration_ms=1000,
        first_captured_at=now,
        last_captured_at=now,
        build_seconds=3.5,
    )
    sequence.save()  # saved again: counted once
    assert value(scrape(client), name, camera="main-street") == before + 1
