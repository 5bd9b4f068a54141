from __future__ import annotations

from django.apps import AppConfig


class SequencesConfig(AppConfig):
    name = "sequences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sequences import signals  # noqa: F401  (connects the receivers)
