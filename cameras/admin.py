from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from cameras.models import Camera, Frame


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

    def clean_password(self) -> str:
        given: str = self.cleaned_data.get("password") or ""
        return given or (self.instance.password if self.instance.pk else "")


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
        ("Place", {"fields": ["location_name", "latitude", "longitude", "time_zone"]}),
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


@admin.register(Frame)
class FrameAdmin(admin.ModelAdmin):
    list_display = ["camera", "captured_at", "width", "height", "size_bytes"]
    list_filter = ["camera"]
    date_hierarchy = "captured_at"
    readonly_fields = ["camera", "captured_at", "file", "size_bytes", "width", "height", "sha256"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False
