from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.decorators.clickjacking import xframe_options_exempt

from imgserv_site.metrics.views import metrics
from imgserv_site.views.health import health
from imgserv_site.views.status import StatusView
from sequences.views.days import camera_day_file
from sequences.views.latest import (
    camera_sequence_latest,
    camera_sequence_latest_format,
    sequence_latest,
)
from sequences.views.viewer import iframe, viewer

# Only the iframe views may be framed, and only by IFRAME_ALLOWED_ORIGINS: the exemption drops
# X-Frame-Options and imgserv_site.security turns it into a CSP frame-ancestors list.
embeddable = xframe_options_exempt

urlpatterns = [
    path("", viewer, name="viewer"),
    path("iframe", embeddable(iframe), name="iframe"),
    path("camera/<slug:slug>/", viewer, name="camera-viewer"),
    path("camera/<slug:slug>/iframe", embeddable(iframe), name="camera-iframe"),
    path("sequence/latest", sequence_latest, name="sequence-latest"),
    path("sequence/<slug:slug>/latest", camera_sequence_latest, name="camera-sequence-latest"),
    path(
        "sequence/<slug:slug>/latest.<str:kind>",
        camera_sequence_latest_format,
        name="camera-sequence-latest-format",
    ),
    path("sequence/<slug:slug>/day/<str:date>.<str:kind>", camera_day_file, name="camera-day-file"),
    # Not rate limited: monitors and load balancers poll it, and it only reads three checks.
    path("health", health, name="health"),
    # For Prometheus: open to METRICS_ALLOWED_IPS or the METRICS_TOKEN bearer only.
    path("metrics", metrics, name="metrics"),
    # A DRF view, so the public rate limit applies.
    path("status", StatusView.as_view(), name="status"),
    path("api/", include("imgserv_site.api.urls")),
    path("", include("analytics.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "imgserv_site.api.views.not_found"
