from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cameras.models import Camera
from sequences.builder import BuildError, build_sequence


class Command(BaseCommand):
    help = "Work with sequences. `sequence build NAME` builds one now from the newest frames."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="Build a sequence now and print its files.")
        build.add_argument("name", help="Camera name or slug.")

    def handle(self, *args: Any, action: str, name: str, **options: Any) -> None:
        camera = Camera.find(name)
        if camera is None:
            raise CommandError(f"No camera named “{name}”. See `manage.py camera list`.")
        started = time.perf_counter()
        try:
            sequence = build_sequence(camera)
        except BuildError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Built {sequence.frame_count} frames of {sequence.frame_duration_ms} ms "
            f"({sequence.width}×{sequence.height}) in {elapsed:.2f} s:"
        )
        for relative in sequence.files():
            path = Path(settings.MEDIA_ROOT) / relative
            self.stdout.write(f"  {path}  {path.stat().st_size:,} bytes")
