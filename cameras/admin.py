from __future__ import annotations

from django.contrib import admin

from cameras.models import Camera, Frame


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["name", "location_name", "source_kind", "enabled", "health", "last_frame_at"]
    list_filter = ["enabled", "health", "source_kind"]
    prepopulated_fields = {"slug": ["name"]}
    health_fields: list[str] = [
        "health",
        "last_frame_at",
        "last_attempt_at",
        "consecutive_failures",
        "last_error",
    ]
    readonly_fields = health_fields
    fieldsets = [
        (None, {"fields": ["name", "slug", "enabled"]}),
        ("Place", {"fields": ["location_name", "latitude", "longitude", "time_zone"]}),
        (
            "Source",
            {"fields": ["source_kind", "source_settings", "capture_width", "capture_height"]},
        ),
        ("Timing", {"fields": ["update_interval_minutes", "frames_per_sequence"]}),
        ("Health", {"fields": list(health_fields)}),
    ]


@admin.register(Frame)
class FrameAdmin(admin.ModelAdmin):
    list_display = ["camera", "captured_at", "width", "height", "size_bytes"]
    list_filter = ["camera"]
    date_hierarchy = "captured_at"
    readonly_fields = ["camera", "captured_at", "file", "size_bytes", "width", "height", "sha256"]

    def has_add_permission(self, request: object) -> bool:
        return False
