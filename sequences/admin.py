"""Sequence settings edited on the camera's own admin page, and the sequences built."""

from __future__ import annotations

from django.contrib import admin

from analytics.admin import RoadBoundaryMixin, RoadConditionMixin
from analytics.models import RoadRegion
from cameras.admin import CameraAdmin
from cameras.models import Camera
from sequences.models import Sequence, SequenceSettings


class SequenceSettingsInline(admin.StackedInline):
    model = SequenceSettings
    can_delete = False
    readonly_fields = ["last_build_error"]


class RoadRegionInline(admin.StackedInline):
    model = RoadRegion
    can_delete = False
    fields = ["operator_polygon", "auto_polygon", "coverage", "method", "updated_at"]
    readonly_fields = ["auto_polygon", "coverage", "method", "updated_at"]
    verbose_name = "road region (an operator polygon overrides the detected one)"


class CameraWithSequenceAdmin(RoadConditionMixin, RoadBoundaryMixin, CameraAdmin):
    """The camera's page also holds its sequence settings, its road region, a live view of
    the road boundary drawn on the latest stored frame and its road-condition panel (learned
    bare road, agreement with the operators' labels, and a link to label recent frames)."""

    inlines = [SequenceSettingsInline, RoadRegionInline]

    def boundary_camera(self, obj: Camera) -> Camera:
        return obj


admin.site.unregister(Camera)
admin.site.register(Camera, CameraWithSequenceAdmin)


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
