from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from imgserv_site.api import views
from imgserv_site.api.docs import DocsView

app_name = "api"

urlpatterns = [
    path("cameras/", views.CameraList.as_view(), name="cameras"),
    path("cameras/<slug:slug>/", views.CameraDetail.as_view(), name="camera"),
    path(
        "cameras/<slug:slug>/sequence/latest",
        views.LatestSequenceView.as_view(),
        name="camera-sequence-latest",
    ),
    path("cameras/<slug:slug>/days", views.DayListView.as_view(), name="camera-days"),
    path("cameras/<slug:slug>/analytics", views.AnalyticsView.as_view(), name="analytics"),
    path(
        "cameras/<slug:slug>/analytics/history",
        views.AnalyticsHistoryView.as_view(),
        name="analytics-history",
    ),
    path("cameras/<slug:slug>/agreement", views.AgreementView.as_view(), name="agreement"),
    path("status", views.ApiStatusView.as_view(), name="status"),
    path("health", views.HealthView.as_view(), name="health"),
    path("publishing", views.PublishingView.as_view(), name="publishing"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
]
