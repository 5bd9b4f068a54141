from __future__ import annotations

from analytics import analysis
from analytics.analysis import detect_region
from analytics.models import RoadRegion
from tests.factories import frames


def test_it_keeps_the_other_tasks_region_when_two_detect_at_once(camera, monkeypatch):
    """The second detector's save loses the uniqueness race; it returns the stored region."""
    import datetime as dt

    frames(camera, 3, dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))
    real_filter = RoadRegion.objects.filter
    calls = {"n": 0}

    def racing_filter(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            # Meanwhile another task stores its region for the same camera.
            RoadRegion.objects.create(camera=camera, auto_polygon=[[0, 1], [1, 1], [0.5, 0.5]])
            return RoadRegion.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(analysis.RoadRegion.objects, "filter", racing_filter)
    region = detect_region(camera)
    assert region is not None
    assert RoadRegion.objects.filter(camera=camera).count() == 1
