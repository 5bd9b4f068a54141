"""Admin for the road region (operator polygon + boundary view), thresholds, readings, operator
labels, learned bare roads and weather history; the page where operators label frames, and
the road-condition panel of the camera's page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from analytics import labelling, service
from analytics.kinds import MIN_SAMPLES, State, state_label
from analytics.labels import AGREEMENT_DAYS, Agreement, Truth
from analytics.models import (
    ConditionReading,
    ConditionThresholds,
    ForecastSnapshot,
    FrameLabel,
    RoadReference,
    RoadRegion,
    WeatherHour,
)
from analytics.region_editor import RoadRegionFormSet, road_region_editor
from cameras.models import Camera, Frame

PER_PAGE = 24
THUMB_WIDTH = 320
LABEL_PERMISSIONS = ("analytics.add_framelabel", "analytics.change_framelabel")
# How many of the newest frames the editor looks through for one still on disk.
FRAME_LOOK_BACK = 5


def boundary_path() -> str:
    return reverse("analytics-road-boundaries")


def local_time(camera: Camera, when: dt.datetime | None) -> str:
    """A time as the camera's place reads it, e.g. "2026-01-15 12:00 EST"; "never" for None."""
    if when is None:
        return "never"
    return f"{timezone.localtime(when, camera.tz):%Y-%m-%d %H:%M %Z}"


def may_label(request: HttpRequest) -> bool:
    return request.user.has_perms(LABEL_PERMISSIONS)


def frame_image_url(frame: Frame | None, thumb: bool = False) -> str | None:
    """The admin URL of a stored frame's JPEG; None when retention deleted it."""
    if frame is None or not service.frame_path(frame).is_file():
        return None
    url = reverse("admin:analytics_frame_image", args=[frame.pk])
    return f"{url}?width={THUMB_WIDTH}" if thumb else url


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


@dataclass(frozen=True)
class LearnedRoadRow:
    light: str
    light_label: str
    samples: int
    updated: str
    in_use: bool


@dataclass(frozen=True)
class RoadConditionPanel:
    """What the camera's page shows of its road condition (read-only)."""

    roads: list[LearnedRoadRow]
    agreement: Agreement
    adjustments: list[str]
    has_labels: bool
    label_url: str | None
    readings_url: str
    days: int = AGREEMENT_DAYS
    min_samples: int = MIN_SAMPLES

    @property
    def states(self) -> list[str]:
        return [str(label) for label in State.labels]

    @property
    def rows(self) -> list[tuple[str, str, list[tuple[str, int]]]]:
        """Per label (row): its value, its name and the count of each published state."""
        matrix = self.agreement.matrix
        return [
            (truth.value, str(truth.label), [(s, matrix[truth.value][s]) for s in State.values])
            for truth in Truth
        ]

    @property
    def right_percent(self) -> str:
        share = self.agreement.right_share
        return "—" if share is None else f"{share:.0%}"


def road_condition_panel(request: HttpRequest, camera: Camera) -> RoadConditionPanel:
    changelist = reverse("admin:analytics_conditionreading_changelist")
    label_url = reverse("admin:analytics_framelabel_label", args=[camera.pk])
    roads = [
        LearnedRoadRow(
            r.light, r.light_label, r.samples, local_time(camera, r.updated_at), r.in_use
        )
        for r in labelling.learned_roads(camera)
    ]
    return RoadConditionPanel(
        roads=roads,
        agreement=service.camera_agreement(camera),
        adjustments=labelling.adjustments(camera),
        has_labels=FrameLabel.objects.filter(camera=camera).exists(),
        label_url=label_url if may_label(request) else None,
        readings_url=f"{changelist}?camera__id__exact={camera.pk}",
    )


class RoadConditionMixin(admin.ModelAdmin):
    """The camera's page also shows its road condition: the learned bare road per light, how
    often it agreed with the operators' labels, and what the labels changed."""

    change_form_template = "analytics/camera_change_form.html"

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if isinstance(obj, Camera) and obj.pk:
            context["road_condition"] = road_condition_panel(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


class RoadRegionInline(admin.StackedInline):
    """Shown on the camera's page (imgserv_site.admin), with the polygon editor."""

    model = RoadRegion
    formset = RoadRegionFormSet
    can_delete = False
    fields = ["operator_polygon", "auto_polygon", "coverage", "method", "updated_at"]
    readonly_fields = ["auto_polygon", "coverage", "method", "updated_at"]
    verbose_name = "road region (an operator polygon overrides the detected one)"

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        camera = obj if isinstance(obj, Camera) else None
        kwargs["widgets"] = {"operator_polygon": road_region_editor(camera)}
        return super().get_formset(request, obj, **kwargs)


@admin.register(RoadRegion)
class RoadRegionAdmin(RoadBoundaryMixin, admin.ModelAdmin):
    list_display = ["camera", "source", "coverage", "updated_at"]
    readonly_fields = ["auto_polygon", "coverage", "contours", "method", "updated_at"]
    fields = ["camera", "operator_polygon", *readonly_fields]

    def boundary_camera(self, obj: RoadRegion) -> Camera:
        return obj.camera

    def get_form(
        self,
        request: HttpRequest,
        obj: RoadRegion | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        kwargs["widgets"] = {"operator_polygon": road_region_editor(obj.camera if obj else None)}
        return super().get_form(request, obj, change, **kwargs)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.latest_frame)
        return [
            path("camera/<int:camera_id>/frame.jpg", view, name="analytics_roadregion_frame"),
            *super().get_urls(),
        ]

    def latest_frame(self, request: HttpRequest, camera_id: int) -> HttpResponse:
        """The camera's newest stored frame that is still on disk, as the boundary block
        chooses its frame: the polygon editor's picture. Read from the store, never the
        camera."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        camera = get_object_or_404(Camera, pk=camera_id)
        recent = Frame.objects.filter(camera=camera).order_by("-captured_at")[:FRAME_LOOK_BACK]
        for frame in recent:
            stored = service.frame_path(frame)
            if stored.is_file():
                response = HttpResponse(stored.read_bytes(), content_type="image/jpeg")
                # The editor must show the newest frame each time the page opens.
                response["Cache-Control"] = "private, no-cache"
                return response
        return HttpResponse(f"No stored frame of “{camera.slug}” yet.", status=404)


@admin.register(ConditionThresholds)
class ConditionThresholdsAdmin(admin.ModelAdmin):
    list_display = ["camera", "light", "moderate", "heavy", "ice", "freezing_c", "wet"]


class TruthForm(forms.Form):
    truth = forms.ChoiceField(
        label="The road showed", choices=Truth.choices, widget=forms.RadioSelect, required=False
    )


def save_truths(request: HttpRequest, readings: QuerySet[ConditionReading]) -> int | None:
    """Store the truths posted for these readings (fields `r<pk>-truth`); the number of labels
    created or changed, or None when a posted value is not a truth."""
    chosen = []
    for reading in readings:
        form = TruthForm(request.POST, prefix=f"r{reading.pk}")
        if not form.is_valid():
            return None
        if form.cleaned_data["truth"]:
            chosen.append((reading, form.cleaned_data["truth"]))
    by = request.user.get_username()
    with transaction.atomic():
        return sum(labelling.label_reading(r, truth, by) is not None for r, truth in chosen)


def report_saved(request: HttpRequest, saved: int | None) -> None:
    if saved is None:
        messages.error(request, "A label was not one of the choices; nothing was saved.")
    elif saved:
        messages.success(request, f"Saved {saved} label{'s' if saved != 1 else ''}.")
    else:
        messages.info(request, "No label changed.")


@dataclass(frozen=True)
class LabelRow:
    """One reading on the labelling page."""

    reading: ConditionReading
    form: TruthForm
    thumb_url: str | None
    image_url: str | None
    time: str

    @property
    def said(self) -> str:
        return state_label(self.reading.state, self.reading.level)

    @property
    def published(self) -> str:
        return state_label(self.reading.published_state, self.reading.published_level)

    @property
    def confidence(self) -> str:
        return "—" if self.unknown else f"{self.reading.confidence:.0%}"

    @property
    def unknown(self) -> bool:
        return self.reading.state == State.UNKNOWN

    @property
    def published_unknown(self) -> bool:
        return self.reading.published_state == State.UNKNOWN


def label_row(reading: ConditionReading, full: bool = False) -> LabelRow:
    """`full`: the frame is shown at its own size, not as a thumbnail."""
    label = getattr(reading, "label", None)
    form = TruthForm(prefix=f"r{reading.pk}", initial={"truth": label.truth if label else ""})
    return LabelRow(
        reading,
        form,
        frame_image_url(reading.frame, thumb=not full),
        frame_image_url(reading.frame),
        local_time(reading.camera, reading.measured_at),
    )


def reading_ids(request: HttpRequest) -> list[int]:
    return [int(v) for v in request.POST.getlist("reading") if v.isdigit()]


@admin.register(ConditionReading)
class ConditionReadingAdmin(admin.ModelAdmin):
    list_display = [
        "camera",
        "measured_at",
        "state",
        "published_state",
        "short_reason",
        "confidence",
        "temperature_c",
        "labelled",
    ]
    list_filter = ["camera", "state", "published_state", "light", "is_night"]
    list_select_related = ["camera", "label"]
    date_hierarchy = "measured_at"
    change_form_template = "analytics/reading_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="reason")
    def short_reason(self, reading: ConditionReading) -> str:
        return Truncator(reading.reason).chars(60)

    @admin.display(description="labelled?", boolean=True)
    def labelled(self, reading: ConditionReading) -> bool:
        return getattr(reading, "label", None) is not None

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("frame/<int:frame_id>.jpg", view(self.frame_image), name="analytics_frame_image"),
            path(
                "<int:reading_id>/label/",
                view(self.label_one),
                name="analytics_conditionreading_label",
            ),
            *super().get_urls(),
        ]

    def frame_image(self, request: HttpRequest, frame_id: int) -> HttpResponse:
        """The stored JPEG of a frame, or a copy `width` pixels wide (at most the frame's)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        frame = get_object_or_404(Frame, pk=frame_id)
        stored = service.frame_path(frame)
        if not stored.is_file():
            return HttpResponse("The frame was deleted by retention.", status=404)
        data = stored.read_bytes()
        width = request.GET.get("width", "")
        if width.isdigit() and 16 <= int(width) < frame.width:
            data = thumbnail(data, int(width)) or data
        response = HttpResponse(data, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def label_one(self, request: HttpRequest, reading_id: int) -> HttpResponse:
        """The label form of one reading's change page posts here."""
        if request.method != "POST" or not may_label(request):
            raise PermissionDenied
        reading = get_object_or_404(ConditionReading, pk=reading_id)
        report_saved(request, save_truths(request, ConditionReading.objects.filter(pk=reading.pk)))
        return HttpResponseRedirect(
            reverse("admin:analytics_conditionreading_change", args=[reading.pk])
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        found = ConditionReading.objects.select_related("camera", "frame", "label")
        reading = found.filter(pk=int(object_id)).first() if object_id.isdigit() else None
        extra = dict(extra_context or {})
        if reading is not None:
            extra["label_row"] = label_row(reading, full=True)
            extra["may_label"] = may_label(request)
            extra["label_url"] = reverse(
                "admin:analytics_conditionreading_label", args=[reading.pk]
            )
        return super().change_view(request, object_id, form_url, extra)


def thumbnail(jpeg: bytes, width: int) -> bytes | None:
    # Here, not at the top: the web process loads OpenCV only when an operator asks for this.
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return data.tobytes() if ok else None


# A label's page: only the truth can be changed; the rest is what the camera said and measured.
LABEL_FIELDS = (
    "camera",
    "captured_at",
    "frame_image",
    "truth",
    "said_state",
    "said_level",
    "features",
    "reading",
    "frame",
    "labelled_by",
    "labelled_at",
)


@admin.register(FrameLabel)
class FrameLabelAdmin(admin.ModelAdmin):
    list_display = ["camera", "captured_at", "truth", "said_state", "said_level", "labelled_by"]
    list_filter = ["camera", "truth", "said_state"]
    list_select_related = ["camera"]
    date_hierarchy = "captured_at"
    fields = LABEL_FIELDS
    readonly_fields = [f for f in LABEL_FIELDS if f != "truth"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="frame")
    def frame_image(self, label: FrameLabel) -> SafeString | str:
        url = frame_image_url(label.frame, thumb=True)
        if url is None:
            return "frame deleted by retention"
        return format_html('<img class="frame-thumb" src="{}" alt="The labelled frame">', url)

    def save_model(self, request: HttpRequest, obj: FrameLabel, form: Any, change: bool) -> None:
        if "truth" in form.changed_data:
            obj.labelled_by = request.user.get_username()
            obj.labelled_at = timezone.now()
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.label_frames)
        return [
            path("camera/<int:camera_id>/", view, name="analytics_framelabel_label"),
            *super().get_urls(),
        ]

    def label_frames(self, request: HttpRequest, camera_id: int) -> HttpResponse:
        """A camera's recent readings, newest first, each with its frame and the five truths;
        one Save stores every changed label."""
        if not may_label(request):
            raise PermissionDenied
        camera = get_object_or_404(Camera, pk=camera_id)
        if request.method == "POST":
            readings = ConditionReading.objects.filter(camera=camera, pk__in=reading_ids(request))
            report_saved(request, save_truths(request, readings))
            number = request.POST.get("page", "1")
            number = number if number.isdigit() else "1"
            return HttpResponseRedirect(f"{request.path}?page={number}")
        readings = (
            ConditionReading.objects.filter(camera=camera)
            .select_related("camera", "frame", "label")
            .order_by("-measured_at")
        )
        page = Paginator(readings, PER_PAGE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Label recent frames of {camera}",
            "opts": self.model._meta,
            "camera": camera,
            "camera_url": reverse("admin:cameras_camera_change", args=[camera.pk]),
            "page": page,
            "rows": [label_row(r) for r in page],
        }
        return TemplateResponse(request, "analytics/label_frames.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RoadReference)
class RoadReferenceAdmin(ReadOnlyAdmin):
    list_display = ["camera", "light", "samples", "in_use", "updated_at"]
    list_filter = ["camera", "light"]
    exclude = ["edge_map"]
    actions = ["forget"]

    @admin.display(description=f"in use (≥ {MIN_SAMPLES} frames)", boolean=True)
    def in_use(self, reference: RoadReference) -> bool:
        return reference.samples >= MIN_SAMPLES

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        # "Forget" says what deleting a learned road means; one way to do it is enough.
        found.pop("delete_selected", None)
        return found

    @admin.action(
        description="Forget the selected learned roads (the camera learns again)",
        permissions=["delete"],
    )
    def forget(self, request: HttpRequest, queryset: QuerySet[RoadReference]) -> None:
        count, _ = queryset.delete()
        self.message_user(
            request,
            f"Forgot {count} learned road{'s' if count != 1 else ''}; the camera learns its "
            "bare road again from its next dry frames.",
            messages.SUCCESS,
        )


@admin.register(WeatherHour)
class WeatherHourAdmin(ReadOnlyAdmin):
    list_display = [
        "camera",
        "time",
        "provider",
        "temperature_c",
        "dew_point_c",
        "precipitation_mm",
        "snowfall_cm",
        "snow_depth_cm",
        "freezing_precipitation",
    ]
    list_filter = ["camera"]
    list_select_related = ["camera"]
    date_hierarchy = "time"


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["camera", "fetched_at", "provider", "current_temperature_c", "error"]
    list_filter = ["camera", "provider"]
