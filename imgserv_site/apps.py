from __future__ import annotations

from django.apps import AppConfig


class ImgservSiteConfig(AppConfig):
    """The composition layer: what needs several apps at once (the REST API, /health and
    /status, the camera's admin page, the `camera` and `doctor` commands). It imports every
    domain app; none of them imports it."""

    name = "imgserv_site"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from analytics.models import ConditionReading
        from cameras.models import Camera
        from cameras.signals import frame_stored, health_changed
        from imgserv_site.freshness import mark_changed
        from imgserv_site.metrics import instruments
        from publishing.models import PublishRun
        from sequences.models import Sequence, SequenceSettings

        # Whatever the public pages show: a change builds them afresh (imgserv_site.freshness).
        frame_stored.connect(mark_changed, dispatch_uid="fresh.frame")
        health_changed.connect(mark_changed, dispatch_uid="fresh.health")
        for model in (Camera, Sequence, SequenceSettings, ConditionReading, PublishRun):
            post_save.connect(mark_changed, sender=model, dispatch_uid=f"fresh.{model.__name__}")
        post_delete.connect(mark_changed, sender=Camera, dispatch_uid="fresh.camera-deleted")
        # Prometheus counts: stored frames and builds (imgserv_site.metrics).
        instruments.connect()
