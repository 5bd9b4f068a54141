from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from cameras.configure import SCHEMES
from cameras.models import Camera, Frame, SourceKind

# The URL schemes a capture source is reached by, as the operator is told them.
CAPTURE_SCHEMES = "rtsp://, http://, https:// or onvif://"


def kind_of_url(url: str) -> SourceKind | None:
    """The source kind a URL's scheme names; None when it names no capture source."""
    scheme, sep, _ = url.partition("://")
    kind = SCHEMES.get(scheme.lower()) if sep else None
    return None if kind in (None, SourceKind.DEMO) else SourceKind(kind)


def schemes_of(kind: SourceKind) -> str:
    return " or ".join(f"{s}://" for s, k in SCHEMES.items() if k == kind)


class CameraForm(forms.ModelForm):
    # Never sent back to the browser: the stored password cannot be read from the form.
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the stored password.",
    )

    class Meta:
        model = Camera
        exclude: list[str] = []
        help_texts = {
            "source_kind": "Left at Demo, it follows the URL: rtsp:// is an RTSP stream, "
            "http(s):// an HTTP snapshot, onvif:// an ONVIF device.",
        }

    # The kind taken from the URL when the operator left the default (Demo), to tell them.
    inferred_kind: SourceKind | None = None

    def clean_password(self) -> str:
        given: str = self.cleaned_data.get("password") or ""
        return given or (self.instance.password if self.instance.pk else "")

    def clean(self) -> dict[str, Any]:
        """The source kind and the URL's scheme agree. A Demo camera ignores its URL, so a URL
        given with the default kind (Demo) says which kind was meant; any other kind that
        disagrees with its URL is refused, naming both fields."""
        cleaned: dict[str, Any] = super().clean() or {}
        url = (cleaned.get("source_url") or "").strip()
        kind = cleaned.get("source_kind")
        if not url or not kind:
            return cleaned
        from_url = kind_of_url(url)
        if from_url is None:
            self.add_error(
                "source_url",
                f"Start the URL with {CAPTURE_SCHEMES}"
                + (" (a Demo camera needs no URL)." if kind == SourceKind.DEMO else "."),
            )
        elif kind == SourceKind.DEMO:
            cleaned["source_kind"] = self.inferred_kind = from_url
        elif from_url != kind:
            scheme = url.partition("://")[0].lower()
            self.add_error(
                "source_url",
                f"The URL starts with {scheme}:// ({from_url.label}) but Source kind is "
                f"“{SourceKind(kind).label}”: choose “{from_url.label}” as the source kind, or "
                f"give a URL that starts with {schemes_of(SourceKind(kind))}.",
            )
        return cleaned


class CameraAdmin(admin.ModelAdmin):
    """The camera's own fields. Registered by imgserv_site.admin, whose page adds what other
    apps keep per camera (sequence settings, road region, road condition)."""

    form = CameraForm
    list_display = [
        "name",
        "location_name",
        "shown_url",
        "enabled",
        "health",
        "last_frame_at",
        "last_error",
    ]
    list_filter = ["enabled", "health", "source_kind"]
    prepopulated_fields = {"slug": ["name"]}
    health_fields: list[str] = [
        "health",
        "last_frame_at",
        "last_attempt_at",
        "consecutive_failures",
        "rejected_frames",
        "last_error",
    ]
    readonly_fields = health_fields
    fieldsets = [
        (None, {"fields": ["name", "slug", "enabled"]}),
        ("Place", {"fields": ["location_name", "latitude", "longitude", "time_zone", "units"]}),
        (
            "Source",
            {
                "fields": [
                    "source_kind",
                    "source_url",
                    "username",
                    "password",
                    "source_settings",
                    "capture_width",
                    "capture_height",
                ]
            },
        ),
        ("Timing", {"fields": ["update_interval_minutes", "frames_per_sequence"]}),
        ("Health", {"fields": list(health_fields)}),
    ]

    @admin.display(description="URL")
    def shown_url(self, camera: Camera) -> str:
        return camera.masked_url

    def save_model(self, request: HttpRequest, obj: Camera, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        inferred = getattr(form, "inferred_kind", None)
        if inferred is not None:
            self.message_user(
                request,
                f"Source kind set to “{inferred.label}” from the URL (it was Demo, which "
                "ignores the URL).",
                messages.INFO,
            )


@admin.register(Frame)
class FrameAdmin(admin.ModelAdmin):
    list_display = ["camera", "captured_at", "width", "height", "size_bytes"]
    list_filter = ["camera"]
    date_hierarchy = "captured_at"
    readonly_fields = ["camera", "captured_at", "file", "size_bytes", "width", "height", "sha256"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False
