"""The operator polygon's editor in the admin: a widget that draws the polygon on the camera's
latest stored frame (analytics/road_region_editor.js), and the inline formset that stores it.
The same widget draws a camera's privacy masks (`kind="mask"`, imgserv_site.admin)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.urls import reverse

from analytics.models import RoadRegion
from cameras.models import Camera

# Points an operator may click for the road polygon (the field itself takes 3 or more).
EDITOR_MIN_POINTS, EDITOR_MAX_POINTS = 4, 12


class RoadRegionEditor(forms.Textarea):
    """The operator polygon's field as a click-to-draw editor over the camera's latest stored
    frame (analytics/road_region_editor.js). The JSON textarea stays: the script keeps it in
    step with the drawing, the form posts it, and the field's validators judge it. Without a
    camera (the add page) it is the plain textarea.

    `kind="mask"` draws a privacy mask instead: no detected region to start from, its own
    words, and an editor in the formset's empty form too, so that "Add another" rows get one.
    """

    template_name = "analytics/road_region_editor.html"

    class Media:
        css = {"all": ["analytics/road_region_editor.css"]}
        js = ["analytics/road_region_editor.js"]

    def __init__(
        self,
        frame_url: str = "",
        detected: Any = None,
        *,
        kind: str = "road",
        min_points: int = EDITOR_MIN_POINTS,
    ) -> None:
        super().__init__(attrs={"class": "road-region-editor__field", "rows": 3})
        self.frame_url = frame_url
        self.detected = detected if isinstance(detected, list) else []
        self.kind = kind
        self.min_points = min_points

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        # The road region has one row: its formset's hidden empty form needs no editor.
        in_empty_form = "__prefix__" in name
        context["editor"] = {
            "shown": bool(self.frame_url) and (self.kind == "mask" or not in_empty_form),
            "kind": self.kind,
            "frame_url": self.frame_url,
            "detected": json.dumps(self.detected),
            "min_points": self.min_points,
            "max_points": EDITOR_MAX_POINTS,
        }
        return context


def frame_url(camera: Camera) -> str:
    """The camera's latest stored frame, as the editors draw on it."""
    return reverse("admin:analytics_roadregion_frame", args=[camera.pk])


def road_region_editor(camera: Camera | None) -> RoadRegionEditor:
    if camera is None or camera.pk is None:
        return RoadRegionEditor()
    region = RoadRegion.objects.filter(camera=camera).only("auto_polygon").first()
    return RoadRegionEditor(
        frame_url=frame_url(camera),
        detected=region.auto_polygon if region else None,
    )


class RoadRegionFormSet(forms.BaseInlineFormSet):
    """The camera's page offers a new road region when it had none, but opening the page
    starts a detection (the boundary block) that may store one before the operator saves:
    the operator's polygon then goes onto that row instead of failing as a second one."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        posted_as_new = index is not None and index >= self.initial_form_count()
        if self.is_bound and posted_as_new and self.instance.pk:
            stored = RoadRegion.objects.filter(camera=self.instance).first()
            if stored is not None:
                kwargs["instance"] = stored
        return kwargs
