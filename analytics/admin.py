"""Admin for the road region (operator polygon + boundary view), thresholds and records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from analytics.models import ConditionReading, ConditionThresholds, ForecastSnapshot, RoadRegion
from cameras.models import Camera


def boundary_path() -> str:
    return reverse("analytics-road-boundaries")


class RoadBoundaryMixin(admin.ModelAdmin):
    """Shows the road boundary drawn on the camera's latest stored frame on a change page.
    The page fetches the image itself, so opening the form never waits for it."""

    change_form_template = "analytics/change_form_with_road_boundary.html"

    def boundary_camera(self, obj: Any) -> Camera:
        raise NotImplementedError

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None:
            slug = self.boundary_camera(obj).slug
            context["boundary_url"] = f"{boundary_path()}?camera={slug}"
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(RoadRegion)
class RoadRegionAdmin(RoadBoundaryMixin, admin.ModelAdmin):
    list_display = ["camera", "source", "coverage", "updated_at"]
    readonly_fields = ["auto_polygon", "coverage", "contours", "method", "updated_at"]
    fields = ["camera", "operator_polygon", *readonly_fields]

    def boundary_camera(self, obj: RoadRegion) -> Camera:
        return obj.camera


@admin.register(ConditionThresholds)
class ConditionThresholdsAdmin(admin.ModelAdmin):
    list_display = ["camera", "light", "moderate", "heavy", "ice", "freezing_c"]


@admin.register(ConditionReading)
class ConditionReadingAdmin(admin.ModelAdmin):
    list_display = [
        "camera",
        "measured_at",
        "level",
        "snow_coverage",
        "confidence",
        "temperature_c",
    ]
    list_filter = ["camera", "level", "is_night"]
    date_hierarchy = "measured_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(admin.ModelAdmin):
    list_display = ["camera", "fetched_at", "provider", "current_temperature_c", "error"]
    list_filter = ["camera", "provider"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
