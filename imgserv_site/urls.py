from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from sequences.views.health import health
from sequences.views.latest import (
    camera_sequence_latest,
    camera_sequence_latest_format,
    sequence_latest,
)
from sequences.views.status import StatusView
from sequences.views.viewer import iframe, viewer

urlpatterns = [
    path("", viewer, name="viewer"),
    path("iframe", iframe, name="iframe"),
    path("camera/<slug:slug>/", viewer, name="camera-viewer"),
    path("camera/<slug:slug>/iframe", iframe, name="camera-iframe"),
    path("sequence/latest", sequence_latest, name="sequence-latest"),
    path("sequence/<slug:slug>/latest", camera_sequence_latest, name="camera-sequence-latest"),
    path(
        "sequence/<slug:slug>/latest.<str:kind>",
        camera_sequence_latest_format,
        name="camera-sequence-latest-format",
    ),
    path("health", health, name="health"),
    path("status", StatusView.as_view(), name="status"),
    path("", include("analytics.urls")),
    path("admin/", admin.site.urls),
]
