from __future__ import annotations

from django.urls import path

from analytics.views import analytics_current, analytics_history, road_boundaries

urlpatterns = [
    path("analytics", analytics_current, name="analytics"),
    path("analytics/history", analytics_history, name="analytics-history"),
    path("analytics/road-boundaries", road_boundaries, name="analytics-road-boundaries"),
]
