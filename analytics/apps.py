from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AnalyticsConfig(AppConfig):
    name = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analytics.schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)
