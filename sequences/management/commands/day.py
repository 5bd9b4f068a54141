from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cameras.models import Camera
from sequences.digest import build_day, yesterday


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"“{value}” is not a date; give it as YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = (
        "Days at a glance. `day build NAME [--date YYYY-MM-DD]` builds (or rebuilds) a "
        "camera's daylight timelapse and day strip of a local date, yesterday by default."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="Build a day at a glance now and print its files.")
        build.add_argument("name", help="Camera name or slug.")
        build.add_argument("--date", help="The camera's local date (default: yesterday).")

    def handle(self, *args: Any, action: str, name: str, date: str | None, **options: Any) -> None:
        camera = Camera.find(name)
        if camera is None:
            raise CommandError(f"No camera named “{name}”. See `manage.py camera list`.")
        day = parse_date(date) if date else yesterday(camera, timezone.now())
        try:
            digest = build_day(camera, day)
        except OSError as exc:
            raise CommandError(f"Could not write: {exc.strerror}.") from exc
        if digest.sunrise and digest.sunset:
            rise, set_ = digest.sunrise.astimezone(camera.tz), digest.sunset.astimezone(camera.tz)
            sun = f"sunrise {rise:%H:%M}, sunset {set_:%H:%M} ({camera.tz})"
        else:
            sun = digest.get_sun_path_display()
        self.stdout.write(
            f"{camera.name} on {day}: {digest.get_status_display()}; {sun}. "
            f"{digest.frame_count} frames in the strip, {digest.daylight_frames} in the "
            f"timelapse, {digest.skipped_frames} unreadable, {digest.build_seconds:.1f} s."
        )
        for relative in digest.files():
            path = Path(settings.MEDIA_ROOT) / relative
            self.stdout.write(f"  {path}  {path.stat().st_size:,} bytes")
