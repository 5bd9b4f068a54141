"""The camera's admin page, composed from what each app keeps per camera.

cameras defines the camera's own fields (`CameraAdmin`), sequences its sequence settings,
analytics its road region, boundary view and road-condition panel; only this module registers
`Camera`, so no app replaces another's registration.
"""

from __future__ import annotations

from django.contrib import admin

from analytics.admin import RoadBoundaryMixin, RoadConditionMixin, RoadRegionInline
from cameras.admin import CameraAdmin
from cameras.models import Camera
from sequences.admin import SequenceSettingsInline


@admin.register(Camera)
class CameraWithSequenceAdmin(RoadConditionMixin, RoadBoundaryMixin, CameraAdmin):
    """The camera's page also holds its sequence settings, its road region (an editor to draw
    the operator polygon on the latest stored frame), a live view of the road boundary drawn
    on that frame and its road-condition panel (learned bare road, agreement with the
    operators' labels, and a link to label recent frames)."""

    inlines = [SequenceSettingsInline, RoadRegionInline]

    def boundary_camera(self, obj: Camera) -> Camera:
        return obj
