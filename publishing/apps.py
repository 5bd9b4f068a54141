from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_save


class PublishingConfig(AppConfig):
    name = "publishing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # No app below publishing imports it: it hooks onto finished builds itself.
        from publishing.tasks import request_publish
        from sequences.models import Sequence

        post_save.connect(request_publish, sender=Sequence, dispatch_uid="publishing-request")
