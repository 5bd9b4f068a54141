"""The Django-Q2 schedules of the analytics app, created after every migrate."""

from __future__ import annotations

from typing import Any

from cameras.schedules import ensure_schedule


def ensure_schedules(**kwargs: Any) -> None:
    ensure_schedule("analyze-latest-frames", "analytics.tasks.analyze_latest_frames", minutes=1)
    ensure_schedule("refresh-forecasts", "analytics.tasks.refresh_forecasts", minutes=30)
    ensure_schedule("redetect-roads", "analytics.tasks.redetect_roads", minutes=24 * 60)
