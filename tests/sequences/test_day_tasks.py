"""The day-at-a-glance tasks: the 15-minute dispatcher builds each camera's yesterday once,
after its own local midnight; build_day takes ids and is safe to re-run."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import time_machine
from django_q.models import Schedule

from sequences import tasks
from sequences.apps import ensure_cleanup_schedule
from sequences.choices import DigestStatus, SunPath
from sequences.models import DayDigest
from tests.factories import demo_day

DAY = dt.date(2026, 11, 27)
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def at_local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEW_YORK)


def test_it_builds_yesterday_once_after_the_cameras_local_midnight(
    camera, sync_tasks, django_capture_on_commit_callbacks
):
    demo_day(camera, DAY, spacing_min=120)
    next_day = DAY + dt.timedelta(days=1)
    with time_machine.travel(at_local(next_day, 0, 5), tick=False):
        assert tasks.build_due_days() == "nothing due"  # frames of 23:59 may still come
    with (
        time_machine.travel(at_local(next_day, 0, 20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.build_due_days() == f"queued {camera.slug} {DAY}"
    digest = DayDigest.objects.get()
    assert (digest.date, digest.status, digest.frame_count) == (DAY, DigestStatus.BUILT, 12)
    assert digest.sun_path == SunPath.NO_LOCATION  # the fixture camera has no position
    with time_machine.travel(at_local(next_day, 6, 0), tick=False):
        assert tasks.build_due_days() == "nothing due"
    assert DayDigest.objects.count() == 1


def test_it_skips_a_camera_that_stored_nothing_yesterday(camera):
    with time_machine.travel(at_local(DAY, 12, 0), tick=False):
        assert tasks.build_due_days() == "nothing due"
    assert not DayDigest.objects.exists()


def test_it_rebuilds_a_day_and_removes_the_files_it_replaces(camera, media_root):
    demo_day(camera, DAY, spacing_min=120)
    tasks.build_day(camera.pk, DAY.isoformat())
    first = DayDigest.objects.get()
    tasks.build_day(camera.pk, DAY.isoformat())
    second = DayDigest.objects.get()
    assert second.files() != first.files()
    assert all((Path(media_root) / f).is_file() for f in second.files())
    assert not any((Path(media_root) / f).exists() for f in first.files())


def test_it_exits_quietly_when_the_camera_is_gone(db):
    assert tasks.build_day(9999, DAY.isoformat()) == "camera gone"


def test_it_schedules_the_dispatcher_every_15_minutes(db):
    ensure_cleanup_schedule()
    schedule = Schedule.objects.get(name="day-digests")
    assert (schedule.func, schedule.minutes) == ("sequences.tasks.build_due_days", 15)


def test_it_takes_over_a_claim_whose_worker_died(
    camera, sync_tasks, django_capture_on_commit_callbacks
):
    demo_day(camera, DAY, spacing_min=120)
    next_day = DAY + dt.timedelta(days=1)
    claimed = at_local(next_day, 0, 15)
    DayDigest.objects.create(camera=camera, date=DAY, claimed_at=claimed)  # never finished
    with time_machine.travel(claimed + dt.timedelta(minutes=30), tick=False):
        assert tasks.build_due_days() == "nothing due"  # it may still be building
    with (
        time_machine.travel(claimed + dt.timedelta(minutes=75), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.build_due_days() == f"queued {camera.slug} {DAY}"
    assert DayDigest.objects.get().status == DigestStatus.BUILT
