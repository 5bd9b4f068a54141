from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from sequences.retention import apply_plan, plan_cleanup, remove_stale_temp_files


def megabytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


class Command(BaseCommand):
    help = (
        "Delete sequences beyond each camera's kept count, frames past FRAME_RETENTION_HOURS "
        "that no kept sequence uses, and the oldest files beyond MEDIA_QUOTA_MB."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report, delete nothing.")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        plan = plan_cleanup(timezone.now())
        summary = (
            f"{len(plan.sequences)} sequences and {len(plan.frames)} frames, "
            f"{megabytes(plan.bytes)}"
        )
        if dry_run:
            self.stdout.write(f"Would delete {summary}.")
            for sequence in plan.sequences:
                self.stdout.write(f"  sequence {sequence}")
            for frame in plan.frames[:50]:
                self.stdout.write(f"  frame {frame.file}")
            if len(plan.frames) > 50:
                self.stdout.write(f"  … and {len(plan.frames) - 50} more frames")
            return
        apply_plan(plan, progress=self.progress if plan.items > 200 else None)
        temps = remove_stale_temp_files(timezone.now())
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {summary}, and {temps} abandoned temp files.")
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
