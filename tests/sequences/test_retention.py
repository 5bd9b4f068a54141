from __future__ import annotations

import datetime as dt
from pathlib import Path

import time_machine
from django.utils import timezone

from cameras.capture import capture_frame, store_frame
from cameras.models import Frame
from sequences import signals
from sequences.builder import build_sequence
from sequences.choices import DigestStatus
from sequences.models import DayDigest, Sequence, SequenceSettings
from sequences.retention import apply_plan, plan_cleanup, stored_bytes
from tests.factories import ScriptedSource, frames, grab

START = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def build_at(camera, when):
    with time_machine.travel(when, tick=False):
        return build_sequence(camera)


def test_it_keeps_only_the_newest_sequences_per_camera(camera, media_root):
    SequenceSettings.objects.create(camera=camera, keep_sequences=2)
    frames(camera, 5, START)
    built = [build_at(camera, START + dt.timedelta(minutes=i)) for i in range(4)]
    apply_plan(plan_cleanup(START + dt.timedelta(minutes=5)))
    assert list(Sequence.objects.order_by("built_at")) == built[2:]
    for gone in built[:2]:
        assert not any((Path(media_root) / f).exists() for f in gone.files())
    for kept in built[2:]:
        assert all((Path(media_root) / f).exists() for f in kept.files())


def test_it_deletes_old_frames_that_no_kept_sequence_needs(camera, media_root, settings):
    settings.FRAME_RETENTION_HOURS = 1
    old = frames(camera, 5, START)
    used = frames(camera, 5, START + dt.timedelta(minutes=10))
    build_at(camera, START + dt.timedelta(minutes=11))
    fresh = frames(camera, 5, START + dt.timedelta(hours=3))
    apply_plan(plan_cleanup(START + dt.timedelta(hours=3, minutes=1)))
    remaining = set(Frame.objects.values_list("pk", flat=True))
    assert remaining == {f.pk for f in used + fresh}
    assert not any((Path(media_root) / f.file).exists() for f in old)


def test_it_holds_the_disk_quota_while_frames_keep_arriving(camera, settings, monkeypatch):
    """Frames every 6 s, each ~65 KB (2.6 MB in all), with a 1 MB cap: the guard after each
    stored frame deletes the oldest, and keeps the newest a build needs."""
    settings.MEDIA_QUOTA_MB = 1
    # The receiver looks at most every 10 s of real time; here, at every frame.
    monkeypatch.setattr(signals, "DISK_CHECK_SECONDS", 0.0)
    source = ScriptedSource([grab(640, 360, seed=i) for i in range(40)])
    stored: list[Frame] = []
    for i in range(40):
        with time_machine.travel(START + dt.timedelta(seconds=6 * i), tick=False):
            frame = capture_frame(camera, source)
        assert frame is not None
        stored.append(frame)
        assert stored_bytes() <= 2**20 + 80_000  # at most the one frame just stored over
    kept = set(Frame.objects.values_list("pk", flat=True))
    gone = [f for f in stored if f.pk not in kept]
    assert len(gone) >= 20  # over half the frames had to go
    assert gone == stored[: len(gone)]  # the oldest, in order
    assert not any((Path(settings.MEDIA_ROOT) / f.file).exists() for f in gone)
    assert {f.pk for f in stored[-camera.frames_per_sequence :]} <= kept


def test_it_never_frees_the_frames_of_the_next_build(camera, settings):
    """Five 1280x720 frames (~250 KB each) are over a 1 MB quota on their own: everything
    older goes, and these stay although the quota is still exceeded."""
    settings.MEDIA_QUOTA_MB = 1
    settings.FRAME_RETENTION_HOURS = 0
    older = frames(camera, 5, START - dt.timedelta(hours=1))
    newest = [
        store_frame(camera, grab(1280, 720, seed=i), START + dt.timedelta(seconds=6 * i))
        for i in range(5)
    ]
    assert stored_bytes() > 2**20 + sum(f.size_bytes for f in older)
    apply_plan(plan_cleanup(timezone.now()))
    assert set(Frame.objects.values_list("pk", flat=True)) == {f.pk for f in newest}
    assert not any((Path(settings.MEDIA_ROOT) / f.file).exists() for f in older)
    assert stored_bytes() > 2**20


def test_it_sweeps_temp_files_abandoned_by_a_killed_write(media_root):
    import os

    from sequences.retention import remove_stale_temp_files

    folder = Path(media_root) / "sequences" / "cam"
    folder.mkdir(parents=True)
    old, fresh = folder / ".a.gif.x.tmp", folder / ".b.gif.y.tmp"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"being written")
    an_hour_ago = timezone.now().timestamp() - 3700
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert remove_stale_temp_files(timezone.now()) == 1
    assert not old.exists() and fresh.exists()


def test_it_frees_the_oldest_frames_to_keep_the_disk_above_its_floor(camera, settings, monkeypatch):
    """A disk with less free space than MIN_FREE_DISK_MB, and no quota: the oldest frames go,
    never those of the next build nor of the latest sequence."""
    from sequences import retention

    settings.MEDIA_QUOTA_MB = 0
    settings.FRAME_RETENTION_HOURS = 1000
    old = frames(camera, 10, START)
    used = frames(camera, 5, START + dt.timedelta(minutes=10))
    latest = build_at(camera, START + dt.timedelta(minutes=11))
    each = old[0].size_bytes
    settings.MIN_FREE_DISK_MB = 100
    short_by = 4 * each  # four frames' worth under the floor
    monkeypatch.setattr(retention, "free_bytes", lambda: 100 * 2**20 - short_by)
    plan = retention.plan_quota(retention.Plan())
    assert [f.pk for f in plan.frames] == [f.pk for f in old[:4]]
    apply_plan(plan)
    remaining = set(Frame.objects.values_list("pk", flat=True))
    assert not {f.pk for f in old[:4]} & remaining
    assert not any((Path(settings.MEDIA_ROOT) / f.file).exists() for f in old[:4])
    assert {f.pk for f in old[4:]} <= remaining
    assert set(latest.frames.values_list("pk", flat=True)) <= set(
        Frame.objects.values_list("pk", flat=True)
    )
    assert {f.pk for f in used} <= set(Frame.objects.values_list("pk", flat=True))


def test_cleanup_finds_files_without_rows_and_rows_without_files(camera, media_root):
    import os

    from sequences.retention import find_orphans, remove_orphans

    kept, lost = frames(camera, 2, START)
    (Path(media_root) / lost.file).unlink()  # the file went missing in a crash
    stray = Path(media_root) / "frames" / camera.slug / "2026-11-20" / "stray.jpg"
    stray.write_bytes(b"a frame whose row was lost")
    young = stray.with_name("young.jpg")
    young.write_bytes(b"a frame whose row is being written right now")
    long_ago = timezone.now().timestamp() - 3600
    os.utime(stray, (long_ago, long_ago))

    found = find_orphans(timezone.now())
    assert (found.files, [f.pk for f in found.frames]) == ([stray], [lost.pk])
    assert remove_orphans(found) == 2
    assert not stray.exists() and young.exists()
    assert list(Frame.objects.values_list("pk", flat=True)) == [kept.pk]


def digest_with_files(camera, media_root: Path, day: dt.date) -> DayDigest:
    folder = Path(media_root) / "digests" / camera.slug
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("mp4", "png"):
        (folder / f"{day}.{suffix}").write_bytes(b"x" * 100)
    return DayDigest.objects.create(
        camera=camera,
        date=day,
        status=DigestStatus.BUILT,
        mp4=f"digests/{camera.slug}/{day}.mp4",
        mp4_bytes=100,
        strip=f"digests/{camera.slug}/{day}.png",
        strip_bytes=100,
    )


def test_it_deletes_days_at_a_glance_past_the_kept_days(camera, media_root, settings):
    settings.DAY_DIGEST_KEEP_DAYS = 3
    today = START.astimezone(camera.tz).date()
    digests = [
        digest_with_files(camera, media_root, today - dt.timedelta(days=n)) for n in (1, 3, 4, 9)
    ]
    plan = plan_cleanup(START)
    assert plan.digests == digests[2:]
    assert plan.bytes == 400
    apply_plan(plan)
    assert list(DayDigest.objects.order_by("-date")) == digests[:2]
    for gone in digests[2:]:
        assert not any((Path(media_root) / f).exists() for f in gone.files())
    for kept in digests[:2]:
        assert all((Path(media_root) / f).exists() for f in kept.files())


def test_it_counts_days_at_a_glance_against_the_quota(camera, media_root):
    before = stored_bytes()
    digest_with_files(camera, media_root, dt.date(2026, 11, 19))
    assert stored_bytes() == before + 200


def test_it_holds_yesterdays_frames_until_its_day_at_a_glance_is_built(camera, settings):
    """The frames of 00:00–00:10 are 24 h old before the day's digest is built after 00:10."""
    settings.FRAME_RETENTION_HOURS = 24
    midnight = dt.datetime(2026, 11, 19, tzinfo=camera.tz)
    first_minutes = frames(camera, 5, midnight, spacing_s=60)
    older = frames(camera, 5, midnight - dt.timedelta(hours=1), spacing_s=60)
    frames(camera, 5, midnight + dt.timedelta(days=1, minutes=5), spacing_s=60)
    after_midnight = midnight + dt.timedelta(days=1, minutes=10)
    planned = {f.pk for f in plan_cleanup(after_midnight).frames}
    assert planned == {f.pk for f in older}
    DayDigest.objects.create(camera=camera, date=midnight.date(), status=DigestStatus.PENDING)
    assert {f.pk for f in plan_cleanup(after_midnight).frames} == planned
    DayDigest.objects.filter(camera=camera).update(status=DigestStatus.BUILT)
    planned = {f.pk for f in plan_cleanup(after_midnight).frames}
    assert planned == {f.pk for f in older + first_minutes}
