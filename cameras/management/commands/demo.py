from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cameras.models import Camera, SourceKind


class Command(BaseCommand):
    help = (
        "Create a demo camera (a generated road scene) when there is no camera; the worker's "
        "capture service starts on it as soon as it is up."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--snow", action="store_true", help="Let it snow in the demo scene.")

    def handle(self, *args: Any, snow: bool, **options: Any) -> None:
        if not Camera.objects.exists():
            Camera.objects.create(
                name="Demo camera",
                slug="demo",
                location_name="Demo Road at Main St",
                latitude=39.74,
                longitude=-104.99,
                time_zone="America/Denver",
                source_kind=SourceKind.DEMO,
                source_settings={"snow": snow},
                update_interval_minutes=1,
                frames_per_sequence=10,
            )
            self.stdout.write("Created the demo camera (1 min updates, 10 frames).")
        self.stdout.write("Capture starts as soon as the worker is up.")
