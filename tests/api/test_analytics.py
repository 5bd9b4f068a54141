from __future__ import annotations

import datetime as dt

from django.utils import timezone

from analytics.models import ConditionReading


def reading(camera, minutes_ago: float, level: str = "clear") -> ConditionReading:
    return ConditionReading.objects.create(
        camera=camera,
        measured_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        level=level,
        snow_coverage=0.0,
        wetness=0.1,
        ice_likelihood=0.0,
        brightness=0.5,
        confidence=0.9,
    )


def test_it_shows_the_current_condition(api, camera):
    reading(camera, 5, "moderate")
    body = api.get(f"/api/cameras/{camera.slug}/analytics").json()
    assert body["camera"] == camera.slug
    assert (body["condition"]["label"], body["current"]) == ("Moderate", True)


def test_it_returns_the_history_of_the_asked_hours(api, camera):
    for minutes in (10, 90, 200):
        reading(camera, minutes)
    body = api.get(f"/api/cameras/{camera.slug}/analytics/history", {"hours": 2}).json()
    assert body["hours"] == 2
    assert len(body["readings"]) == 2


def test_it_names_a_bad_hours_value(api, camera):
    for bad in ("0", "169", "abc"):
        response = api.get(f"/api/cameras/{camera.slug}/analytics/history", {"hours": bad})
        assert response.status_code == 400
        assert "hours" in response.json()


def test_it_answers_404_for_an_unknown_camera(api, db):
    assert api.get("/api/cameras/nope/analytics").status_code == 404
