"""Sequence settings edited on the camera's own admin page, and the sequences built."""

from __future__ import annotations

from django.contrib import admin

from sequences.models import Sequence, SequenceSettings


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
