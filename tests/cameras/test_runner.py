"""The capture service: cameras on their slots, one thread each, leases kept and shared."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from django.dispatch import receiver

from cameras import runner
from cameras.capture import frame_stored
from cameras.models import Camera, Frame, SourceKind
from cameras.runner import CaptureService
from tests.factories import ScriptedSource, grab

pytestmark = pytest.mark.django_db(transaction=True)


class HangingSource:
    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def grab(self):
        self.release.wait(30)
        raise runner.CaptureError("Timed out.")

    def close(self) -> None:
        pass


def make_camera(name: str) -> Camera:
    return Camera.objects.create(
        name=name,
        slug=name,
        location_name=name,
        source_kind=SourceKind.DEMO,
        update_interval_minutes=1,
        frames_per_sequence=30,  # a slot every 2 s
    )


def run_for(seconds: float, *services: CaptureService) -> None:
    stop = threading.Event()
    threads = [threading.Thread(target=s.run, args=(stop,)) for s in services]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
        assert not thread.is_alive(), "the capture service did not stop"


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()
    # The hung grabs now end and record their error: before the database is emptied for the
    # next test, or that write and the emptying collide.
    for thread in threading.enumerate():
        if thread.name.startswith("cam-"):
            thread.join(timeout=10)


def test_it_keeps_other_cameras_on_their_slots_while_one_hangs(monkeypatch, release):
    hung, healthy = make_camera("hung"), make_camera("healthy")

    def open_source(camera):
        if camera.pk == hung.pk:
            return HangingSource(release)
        return ScriptedSource([grab(seed=i) for i in range(20)])

    monkeypatch.setattr(runner, "open_source", open_source)
    run_for(9, CaptureService(node="test:1"))
    taken = list(Frame.objects.filter(camera=healthy).order_by("captured_at"))
    assert len(taken) >= 3
    spacing = healthy.capture_spacing.total_seconds()
    lateness = [f.captured_at.timestamp() % spacing for f in taken]
    assert all(late < 1.0 for late in lateness), lateness
    assert not Frame.objects.filter(camera=hung).exists()


def test_it_reports_a_grab_stuck_far_past_its_deadline(monkeypatch, release):
    stuck = make_camera("stuck")
    monkeypatch.setattr(runner, "open_source", lambda camera: HangingSource(release))
    monkeypatch.setattr(runner, "STUCK_AFTER", dt.timedelta(seconds=2))
    run_for(5, CaptureService(node="test:1"))
    stuck.refresh_from_db()
    assert stuck.last_error.startswith("Capture stuck: a grab has been running for")
    assert stuck.health == "degraded"


def test_it_stops_capturing_a_disabled_camera(monkeypatch):
    camera = make_camera("soon-off")
    calls = []

    class CountingSource(ScriptedSource):
        def grab(self):
            calls.append(1)
            Camera.objects.filter(pk=camera.pk).update(enabled=False)
            return super().grab()

    monkeypatch.setattr(runner, "open_source", lambda c: CountingSource([grab()] * 5))
    run_for(6, CaptureService(node="test:1"))
    assert len(calls) == 1


def test_two_nodes_share_the_cameras_and_store_each_frame_once(monkeypatch):
    cams = [make_camera(f"cam{i}") for i in range(4)]
    monkeypatch.setattr(
        runner, "open_source", lambda c: ScriptedSource([grab(seed=i) for i in range(30)])
    )
    run_for(8, CaptureService(node="a:1"), CaptureService(node="b:2"))
    for camera in cams:
        times = list(Frame.objects.filter(camera=camera).values_list("captured_at", flat=True))
        assert len(times) >= 2
        assert len(times) == len(set(times))


def test_receivers_run_off_the_camera_thread_and_cannot_stop_capture(monkeypatch):
    camera = make_camera("busy")
    monkeypatch.setattr(
        runner, "open_source", lambda c: ScriptedSource([grab(seed=i) for i in range(30)])
    )
    threads: list[str] = []

    @receiver(frame_stored, dispatch_uid="test-broken-receiver")
    def broken(sender, frame, **kwargs):
        threads.append(threading.current_thread().name)
        raise OSError("No space left on device")

    try:
        run_for(7, CaptureService(node="test:1"))
    finally:
        frame_stored.disconnect(dispatch_uid="test-broken-receiver")
    assert Frame.objects.filter(camera=camera).count() >= 3
    assert threads and not any(name.startswith("cam-") for name in threads)


def test_it_frees_its_leases_when_it_stops(monkeypatch):
    make_camera("one")
    monkeypatch.setattr(runner, "open_source", lambda c: ScriptedSource([grab()] * 5))
    run_for(2, CaptureService(node="test:1"))
    assert set(Camera.objects.values_list("lease_owner", "lease_until")) == {("", None)}
