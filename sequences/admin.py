"""Sequence settings edited on the camera's own admin page, and the sequences built."""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django_q.tasks import async_task

from sequences.models import DayDigest, Sequence, SequenceSettings


def queue_day(camera_id: int, day: dt.date) -> None:
    """Build a day at a glance on the worker: the web process loads no image library."""
    transaction.on_commit(
        partial(async_task, "sequences.tasks.build_day", camera_id, day.isoformat(), group="digest")
    )


class SequenceSettingsInline(admin.StackedInline):
    """Shown on the camera's page (imgserv_site.admin)."""

    model = SequenceSettings
    can_delete = False
    readonly_fields = ["last_build_error"]


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    list_display = ["camera", "built_at", "frame_count", "gif_bytes", "build_seconds"]
    list_filter = ["camera"]
    date_hierarchy = "built_at"
    exclude = ["frames"]
    readonly_fields = [
        "camera",
        "built_at",
        "gif",
        "gif_bytes",
        "width",
        "height",
        "frame_count",
        "frame_duration_ms",
        "first_captured_at",
        "last_captured_at",
        "build_seconds",
    ]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(DayDigest)
class DayDigestAdmin(admin.ModelAdmin):
    list_display = [
        "camera",
        "date",
        "status",
        "sun_path",
        "sunrise",
        "sunset",
        "frame_count",
        "daylight_frames",
        "skipped_frames",
        "last_error",
    ]
    list_filter = ["camera", "status"]
    date_hierarchy = "date"
    actions = ["build_again"]
    readonly_fields = [f.name for f in DayDigest._meta.fields if f.name != "id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Build again (on the worker, from the frames still stored)")
    def build_again(self, request: HttpRequest, queryset: QuerySet[DayDigest]) -> None:
        for digest in queryset:
            queue_day(digest.camera_id, digest.date)
        self.message_user(request, f"Queued {queryset.count()} day(s) at a glance.")
