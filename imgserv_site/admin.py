"""The camera's admin page, composed from what each app keeps per camera.

cameras defines the camera's own fields (`CameraAdmin`) and its privacy masks, sequences its
sequence settings, analytics its road region, boundary view, road-condition panel and the
polygon editor that both the road region and the masks are drawn with; only this module
registers `Camera`, so no app replaces another's registration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from analytics.admin import RoadBoundaryMixin, RoadConditionMixin, RoadRegionInline
from analytics.region_editor import RoadRegionEditor, frame_url
from cameras.admin import CameraAdmin
from cameras.models import Camera, PrivacyMask, PrivacySettings
from cameras.polygons import MASK_REQUIRED
from sequences.admin import SequenceSettingsInline, queue_day

# A mask may be a triangle; the road needs four points.
MASK_MIN_POINTS = 3


def mask_editor(camera: Camera | None) -> RoadRegionEditor:
    """The road region's editor, drawing a privacy mask on the camera's latest stored frame
    (which shows the masks already stored: they are applied when a frame is stored)."""
    if camera is None or camera.pk is None:
        return RoadRegionEditor(kind="mask", min_points=MASK_MIN_POINTS)
    return RoadRegionEditor(frame_url(camera), kind="mask", min_points=MASK_MIN_POINTS)


class PrivacyMaskForm(forms.ModelForm):
    class Meta:
        model = PrivacyMask
        fields = ["name", "polygon", "style", "fill_colour"]
        error_messages = {"polygon": {"required": MASK_REQUIRED}}


class PrivacyMaskInline(admin.StackedInline):
    model = PrivacyMask
    form = PrivacyMaskForm
    extra = 0
    verbose_name = "privacy mask"

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs["widgets"] = {"polygon": mask_editor(obj if isinstance(obj, Camera) else None)}
        return super().get_formset(request, obj, **kwargs)


class PrivacySettingsInline(admin.StackedInline):
    model = PrivacySettings
    can_delete = False
    fields = ["blur_plates", "blur_faces"]


@admin.register(Camera)
class CameraWithSequenceAdmin(RoadConditionMixin, RoadBoundaryMixin, CameraAdmin):
    """The camera's page also holds its sequence settings, its road region (an editor to draw
    the operator polygon on the latest stored frame), its privacy masks (drawn with the same
    editor) and automatic blurring, a live view of the road boundary drawn on that frame and
    its road-condition panel (learned bare road, agreement with the operators' labels, and a
    link to label recent frames)."""

    inlines = [SequenceSettingsInline, RoadRegionInline, PrivacyMaskInline, PrivacySettingsInline]
    actions = ["build_yesterday"]

    @admin.action(description="Build yesterday at a glance (on the worker)")
    def build_yesterday(self, request: HttpRequest, queryset: QuerySet[Camera]) -> None:
        now = timezone.now()
        for camera in queryset:
            queue_day(camera.pk, now.astimezone(camera.tz).date() - dt.timedelta(days=1))
        self.message_user(
            request, f"Queued yesterday at a glance for {queryset.count()} camera(s)."
        )

    def boundary_camera(self, obj: Camera) -> Camera:
        return obj
