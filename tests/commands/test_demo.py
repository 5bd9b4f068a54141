from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django_q.brokers import get_broker

from cameras.models import Camera, CaptureClock


def test_it_creates_one_demo_camera_when_there_is_none(db):
    out = StringIO()
    call_command("demo", stdout=out)
    call_command("demo", stdout=out)
    camera = Camera.objects.get()
    assert camera.source_kind == "demo"
    assert camera.capture_spacing.total_seconds() == 6
    assert "Created the demo camera" in out.getvalue()


def test_it_leaves_existing_cameras_alone(camera):
    call_command("demo", stdout=StringIO())
    assert list(Camera.objects.all()) == [camera]


def test_it_queues_a_capture_shift_and_forgets_stale_claims(db):
    from django.utils import timezone

    CaptureClock.objects.create(pk=1, covered_until=timezone.now())
    broker = get_broker()
    broker.purge_queue()
    call_command("demo", stdout=StringIO())
    assert CaptureClock.get().covered_until is None
    assert broker.queue_size() == 1
    broker.purge_queue()
