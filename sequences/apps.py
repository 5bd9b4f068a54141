from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SequencesConfig(AppConfig):
    name = "sequences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Both modules connect receivers (builds; scale-out health and condition messages).
        from sequences import live, signals  # noqa: F401

        post_migrate.connect(ensure_cleanup_schedule, sender=self)


def ensure_cleanup_schedule(**kwargs: Any) -> None:
    from cameras.schedules import ensure_schedule

    ensure_schedule("cleanup", "sequences.tasks.cleanup", minutes=10)
    ensure_schedule("hold-disk", "sequences.tasks.hold_disk", minutes=1)
    ensure_schedule("day-digests", "sequences.tasks.build_due_days", minutes=15)
