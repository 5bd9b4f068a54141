from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django_q.brokers import get_broker

from cameras.models import Camera


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


def test_it_queues_nothing_capture_runs_in_the_worker(db):
    broker = get_broker()
    broker.purge_queue()
    call_command("demo", stdout=StringIO())
    assert broker.queue_size() == 0
