from __future__ import annotations

import datetime as dt

import time_machine

from cameras.capture import capture_frame
from sequences.models import Sequence, SequenceSettings
from tests.factories import ScriptedSource, grab

T0 = dt.datetime(2026, 11, 28, 17, 0, 3, tzinfo=dt.UTC)


def capture_at(camera, when: dt.datetime, seed: int, on_commit=None) -> None:
    with time_machine.travel(when, tick=False):
        if on_commit is None:
            assert capture_frame(camera, ScriptedSource([grab(seed=seed)])) is not None
            return
        with on_commit(execute=True):
            assert capture_frame(camera, ScriptedSource([grab(seed=seed)])) is not None


def test_it_builds_once_enough_frames_arrive_and_then_once_per_interval(
    camera, sync_tasks, django_capture_on_commit_callbacks
):
    def capture(seconds: float, seed: int) -> None:
        capture_at(
            camera, T0 + dt.timedelta(seconds=seconds), seed, django_capture_on_commit_callbacks
        )

    for i in range(4):
        capture(6 * i, i)
    assert not Sequence.objects.exists()

    capture(24, 4)
    assert Sequence.objects.count() == 1

    # Frames within the same minute build nothing more; the first after the minute does.
    capture(30, 5)
    assert Sequence.objects.count() == 1
    capture(57, 6)
    assert Sequence.objects.count() == 2
    newest = Sequence.objects.latest()
    assert newest.last_captured_at == T0 + dt.timedelta(seconds=57)


def test_it_claims_a_due_build_only_once(camera):
    for i in range(5):
        capture_at(camera, T0 + dt.timedelta(seconds=i), i)
    opts = SequenceSettings.objects.get(camera=camera)
    opts.next_build_at = None
    opts.save(update_fields=["next_build_at"])
    assert opts.claim_build(T0) is True
    assert opts.claim_build(T0) is False
