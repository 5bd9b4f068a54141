from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications import receivers

        receivers.connect()
        post_migrate.connect(ensure_schedules, sender=self)


def ensure_schedules(**kwargs: Any) -> None:
    from cameras.schedules import ensure_schedule

    # Disk and publishing are watched, held and failed deliveries retried, once a minute.
    ensure_schedule("notifications-check", "notifications.tasks.check", minutes=1)
