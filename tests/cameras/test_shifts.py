from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from cameras import shifts
from cameras.models import Camera, CaptureClock, Frame, SourceKind
from cameras.shifts import CLAIM_AHEAD, SHIFT_LENGTH, claim_shift, run_shift
from tests.factories import ScriptedSource, grab

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def test_it_claims_the_first_shift_from_now(db):
    assert claim_shift(NOW) == (NOW, NOW + SHIFT_LENGTH)
    assert CaptureClock.get().last_tick_at == NOW


def test_it_claims_the_next_shift_seamlessly(db):
    claim_shift(NOW)
    later = NOW + SHIFT_LENGTH - CLAIM_AHEAD
    assert claim_shift(later) == (NOW + SHIFT_LENGTH, NOW + 2 * SHIFT_LENGTH)


def test_it_claims_nothing_while_the_future_is_covered(db):
    claim_shift(NOW)
    assert claim_shift(NOW + dt.timedelta(seconds=10)) is None


def test_it_starts_from_now_after_a_gap(db):
    claim_shift(NOW)
    much_later = NOW + dt.timedelta(hours=1)
    assert claim_shift(much_later) == (much_later, much_later + SHIFT_LENGTH)


class HangingSource:
    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def grab(self):
        self.release.wait(10)
        raise shifts.CaptureError("Timed out.")

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


@pytest.mark.django_db(transaction=True)
def test_it_keeps_other_cameras_on_their_slots_while_one_hangs(monkeypatch):
    hung, healthy = make_camera("hung"), make_camera("healthy")
    release = threading.Event()

    def open_source(camera):
        if camera.pk == hung.pk:
            return HangingSource(release)
        return ScriptedSource([grab(seed=i) for i in range(10)])

    monkeypatch.setattr(shifts, "open_source", open_source)
    start = timezone.now()
    end = start + dt.timedelta(seconds=7)
    try:
        run_shift(start, end)
    finally:
        release.set()

    slots = healthy.slots_between(start, end)
    taken = list(Frame.objects.filter(camera=healthy).order_by("captured_at"))
    assert len(taken) == len(slots) >= 3
    lateness = [(f.captured_at - s).total_seconds() for f, s in zip(taken, slots, strict=True)]
    assert all(0 <= late < 1.0 for late in lateness), lateness
    assert not Frame.objects.filter(camera=hung).exists()


@pytest.mark.django_db(transaction=True)
def test_it_stops_capturing_a_camera_disabled_mid_shift(monkeypatch):
    camera = make_camera("soon-off")
    calls = []

    class CountingSource(ScriptedSource):
        def grab(self):
            calls.append(1)
            Camera.objects.filter(pk=camera.pk).update(enabled=False)
            return super().grab()

    monkeypatch.setattr(shifts, "open_source", lambda c: CountingSource([grab()] * 5))
    start = timezone.now()
    run_shift(start, start + dt.timedelta(seconds=5))
    assert len(calls) == 1
