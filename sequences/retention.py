"""What storage to free: old sequences and days at a glance, frames no kept sequence needs,
whatever it takes to stay under the disk quota *and* above the free-space floor, and media that
lost their row (or rows that lost their file) in a crash. Planning is separate from deleting so
`cleanup --dry-run` can show exactly what a real run would do."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Q, Sum

from cameras.models import Camera, Frame
from sequences.choices import DigestStatus
from sequences.models import DayDigest, Sequence, SequenceSettings

log = logging.getLogger(__name__)


@dataclass
class Plan:
    sequences: list[Sequence] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    digests: list[DayDigest] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return (
            sum(s.gif_bytes + s.mp4_bytes + s.webp_bytes for s in self.sequences)
            + sum(f.size_bytes for f in self.frames)
            + sum(d.total_bytes for d in self.digests)
        )

    @property
    def items(self) -> int:
        return len(self.sequences) + len(self.frames) + len(self.digests)


def stored_bytes() -> int:
    frames = Frame.objects.aggregate(n=Sum("size_bytes"))["n"] or 0
    sequences = Sequence.objects.aggregate(
        g=Sum("gif_bytes"), m=Sum("mp4_bytes"), w=Sum("webp_bytes")
    )
    digests = DayDigest.objects.aggregate(m=Sum("mp4_bytes"), s=Sum("strip_bytes"))
    return frames + sum(v or 0 for v in (*sequences.values(), *digests.values()))


def kept_sequence_ids() -> set[int]:
    kept: set[int] = set()
    for camera in Camera.objects.all():
        opts = SequenceSettings.objects.filter(camera=camera).first()
        keep = opts.keep_sequences if opts else SequenceSettings().keep_sequences
        kept.update(camera.sequences.values_list("pk", flat=True)[:keep])
    return kept


def protected_frame_ids() -> set[int]:
    """Frames the next build of each camera will use: never freed, even to meet the quota."""
    protected: set[int] = set()
    for camera in Camera.objects.all():
        newest = Frame.objects.filter(camera=camera).values_list("pk", flat=True)
        protected.update(newest[: camera.frames_per_sequence])
    return protected


def undigested_days(now: dt.datetime) -> Q:
    """Each camera's frames of yesterday (local) while that day's digest is not built yet:
    with the default 24-hour window the digest, built a little after midnight, would otherwise
    miss the first minutes of the day (sequences.digest). A shorter FRAME_RETENTION_HOURS is
    the operator's choice and leaves the digest the frames it kept. Held for one day at most;
    the quota does not wait for them."""
    held = Q(pk__in=[])
    for camera in Camera.objects.all():
        local_today = now.astimezone(camera.tz).date()
        day = local_today - dt.timedelta(days=1)
        done = DayDigest.objects.filter(camera=camera, date=day)
        if not done.exclude(status=DigestStatus.PENDING).exists():
            start = dt.datetime.combine(day, dt.time(), tzinfo=camera.tz)
            end = dt.datetime.combine(local_today, dt.time(), tzinfo=camera.tz)
            held |= Q(camera=camera, captured_at__gte=start, captured_at__lt=end)
    return held


def old_digests(now: dt.datetime) -> list[DayDigest]:
    """Days at a glance older than DAY_DIGEST_KEEP_DAYS of each camera's local days."""
    old: list[DayDigest] = []
    for camera in Camera.objects.all():
        oldest_kept = now.astimezone(camera.tz).date() - dt.timedelta(
            days=settings.DAY_DIGEST_KEEP_DAYS
        )
        old.extend(DayDigest.objects.filter(camera=camera, date__lt=oldest_kept))
    return old


def plan_retention(now: dt.datetime) -> Plan:
    """Sequences beyond each camera's K newest; frames past the retention window that no kept
    sequence uses (nor a day at a glance still to be built); days at a glance past
    DAY_DIGEST_KEEP_DAYS."""
    kept = kept_sequence_ids()
    old_sequences = list(Sequence.objects.exclude(pk__in=kept).select_related("camera"))
    cutoff = now - dt.timedelta(hours=settings.FRAME_RETENTION_HOURS)
    needed = Q(sequences__in=kept) | Q(pk__in=protected_frame_ids()) | undigested_days(now)
    old_frames = list(Frame.objects.filter(captured_at__lt=cutoff).exclude(needed).distinct())
    return Plan(sequences=old_sequences, frames=old_frames, digests=old_digests(now))


def free_bytes() -> int:
    return shutil.disk_usage(settings.MEDIA_ROOT).free


def excess_bytes(plan: Plan) -> int:
    """How much more to free after `plan`: over the quota (MEDIA_QUOTA_MB, 0 for none), or
    under the free-space floor (MIN_FREE_DISK_MB), whichever is further off."""
    quota = settings.MEDIA_QUOTA_MB * 2**20
    over_quota = stored_bytes() - plan.bytes - quota if quota else 0
    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    under_floor = settings.MIN_FREE_DISK_MB * 2**20 - (free_bytes() + plan.bytes)
    return max(over_quota, under_floor)


def plan_quota(plan: Plan) -> Plan:
    """Add the oldest frames, then the oldest sequences (never a camera's latest, nor the
    frames its next build needs), until what remains fits the quota and leaves the disk its
    free-space floor."""
    excess = excess_bytes(plan)
    if excess <= 0:
        return plan
    latest = {
        pk
        for camera in Camera.objects.all()
        if (pk := camera.sequences.values_list("pk", flat=True).first()) is not None
    }
    skip_frames = {f.pk for f in plan.frames} | protected_frame_ids()
    for frame in oldest_frames(skip_frames, needed_by=latest):
        if excess <= 0:
            return plan
        plan.frames.append(frame)
        excess -= frame.size_bytes
    skip_sequences = {s.pk for s in plan.sequences} | latest
    for sequence in Sequence.objects.exclude(pk__in=skip_sequences).order_by("built_at"):
        if excess <= 0:
            break
        plan.sequences.append(sequence)
        excess -= sequence.gif_bytes + sequence.mp4_bytes + sequence.webp_bytes
    return plan


def oldest_frames(skip: set[int], needed_by: set[int]) -> Iterable[Frame]:
    candidates = Frame.objects.exclude(pk__in=skip).exclude(sequences__in=needed_by)
    return candidates.order_by("captured_at").distinct().iterator(chunk_size=500)


def plan_cleanup(now: dt.datetime) -> Plan:
    return plan_quota(plan_retention(now))


# A file this young may belong to a frame whose row is being written right now.
ORPHAN_AGE = dt.timedelta(minutes=10)
MEDIA_FOLDERS = ("frames", "sequences", "digests")


@dataclass
class Orphans:
    """What a crash can leave: files no row points at, rows whose file is gone."""

    files: list[Path] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    sequences: list[Sequence] = field(default_factory=list)

    @property
    def items(self) -> int:
        return len(self.files) + len(self.frames) + len(self.sequences)


def find_orphans(now: dt.datetime) -> Orphans:
    root = Path(settings.MEDIA_ROOT)
    known = set(Frame.objects.values_list("file", flat=True))
    for files in Sequence.objects.values_list("gif", "mp4", "webp"):
        known.update(f for f in files if f)
    for mp4, strip in DayDigest.objects.values_list("mp4", "strip"):
        known.update(f for f in (mp4, strip) if f)
    cutoff = (now - ORPHAN_AGE).timestamp()
    found = Orphans()
    for path in media_files(root):
        try:
            old = path.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue
        if old and path.relative_to(root).as_posix() not in known:
            found.files.append(path)
    for frame in Frame.objects.only("pk", "file").iterator(chunk_size=1000):
        if not (root / frame.file).is_file():
            found.frames.append(frame)
    for sequence in Sequence.objects.all():
        if not (root / sequence.gif).is_file():
            found.sequences.append(sequence)
    return found


def media_files(root: Path) -> Iterator[Path]:
    for folder in MEDIA_FOLDERS:
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.suffix != ".tmp":  # temps: remove_stale_temp_files
                yield path


def remove_orphans(orphans: Orphans) -> int:
    for path in orphans.files:
        path.unlink(missing_ok=True)
    Frame.objects.filter(pk__in=[f.pk for f in orphans.frames]).delete()
    for sequence in orphans.sequences:
        files = sequence.files()
        sequence.delete()
        remove_files(files)
    if orphans.items:
        log.warning(
            "cleanup removed %d files without a row, %d frames and %d sequences without a file",
            len(orphans.files),
            len(orphans.frames),
            len(orphans.sequences),
        )
    return orphans.items


# Temp files of a write that was killed (power cut, SIGKILL) are swept once surely abandoned.
STALE_TEMP_AGE = dt.timedelta(hours=1)


def remove_stale_temp_files(now: dt.datetime) -> int:
    cutoff = (now - STALE_TEMP_AGE).timestamp()
    removed = 0
    for path in Path(settings.MEDIA_ROOT).rglob("*.tmp"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def remove_files(relative_paths: Iterable[str]) -> None:
    root = Path(settings.MEDIA_ROOT)
    for relative in relative_paths:
        (root / relative).unlink(missing_ok=True)


def apply_plan(plan: Plan, progress: Callable[[int, int], None] | None = None) -> int:
    """Delete rows first, then files: a crash in between leaves stray files, never rows
    pointing at missing files."""
    total, done = plan.items, 0
    for sequence in plan.sequences:
        files = sequence.files()
        sequence.delete()
        remove_files(files)
        done += 1
        if progress:
            progress(done, total)
    for digest in plan.digests:
        files = digest.files()
        digest.delete()
        remove_files(files)
        done += 1
        if progress:
            progress(done, total)
    for frame in plan.frames:
        Frame.objects.filter(pk=frame.pk).delete()
        remove_files([frame.file])
        done += 1
        if progress:
            progress(done, total)
    if done:
        log.info(
            "cleanup freed %d sequences, %d days at a glance and %d frames",
            len(plan.sequences),
            len(plan.digests),
            len(plan.frames),
        )
    return plan.bytes
