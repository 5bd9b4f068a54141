from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from sequences.retention import (
    Orphans,
    apply_plan,
    find_orphans,
    plan_cleanup,
    remove_orphans,
    remove_stale_temp_files,
)


def megabytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def describe(orphans: Orphans) -> str:
    return (
        f"{len(orphans.files)} media files without a row, {len(orphans.frames)} frames and "
        f"{len(orphans.sequences)} sequences without a file"
    )


class Command(BaseCommand):
    help = (
        "Delete sequences beyond each camera's kept count, days at a glance past "
        "DAY_DIGEST_KEEP_DAYS, frames past FRAME_RETENTION_HOURS "
        "that no kept sequence uses, the oldest files beyond MEDIA_QUOTA_MB or below "
        "MIN_FREE_DISK_MB of free disk, media files that no row names and rows whose file "
        "is gone."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report, delete nothing.")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        now = timezone.now()
        plan = plan_cleanup(now)
        orphans = find_orphans(now)
        summary = (
            f"{len(plan.sequences)} sequences and {len(plan.frames)} frames, "
            + (f"{len(plan.digests)} days at a glance, " if plan.digests else "")
            + megabytes(plan.bytes)
        )
        if dry_run:
            self.stdout.write(f"Would delete {summary}.")
            for sequence in plan.sequences:
                self.stdout.write(f"  sequence {sequence}")
            for digest in plan.digests:
                self.stdout.write(f"  day at a glance {digest}")
            for frame in plan.frames[:50]:
                self.stdout.write(f"  frame {frame.file}")
            if len(plan.frames) > 50:
                self.stdout.write(f"  … and {len(plan.frames) - 50} more frames")
            self.stdout.write(f"Would remove {describe(orphans)}.")
            for path in orphans.files[:50]:
                self.stdout.write(f"  file without a row {path}")
            return
        apply_plan(plan, progress=self.progress if plan.items > 200 else None)
        temps = remove_stale_temp_files(timezone.now())
        remove_orphans(orphans)
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {summary}, {temps} abandoned temp files and {describe(orphans)}."
            )
        )

    def progress(self, done: int, total: int) -> None:
        if done % 100 and done != total:
            return
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()
