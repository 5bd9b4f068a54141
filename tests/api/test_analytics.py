from __future__ import annotations

import datetime as dt

from django.utils import timezone

from analytics.kinds import Level, State
from analytics.models import ConditionReading


def reading(
    camera,
    minutes_ago: float,
    state: str = State.DRY,
    level: str = Level.CLEAR,
    reason: str = "bare road",
) -> ConditionReading:
    """A reading whose own state is also the published one."""
    return ConditionReading.objects.create(
        camera=camera,
        measured_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        state=state,
        level=level,
        reason=reason,
        published_state=state,
        published_level=level,
        published_reason=reason,
        snow_coverage=0.0,
        wetness=0.1,
        ice_likelihood=0.0,
        brightness=0.5,
        confidence=0.9,
    )


def test_it_shows_the_current_condition(api, camera):
    reading(camera, 5, State.SNOW, Level.MODERATE)
    body = api.get(f"/api/cameras/{camera.slug}/analytics").json()
    assert body["camera"] == camera.slug
    assert (body["condition"]["label"], body["current"]) == ("Moderate snow", True)
    assert body["condition"]["published"]["state"] == "snow"


def test_it_answers_unknown_as_a_state_with_its_reason(api, camera):
    reading(camera, 5, State.UNKNOWN, "", "too dark to see the road")
    body = api.get(f"/api/cameras/{camera.slug}/analytics").json()
    published = body["condition"]["published"]
    assert (published["state"], published["level"], published["reason"]) == (
        "unknown",
        None,
        "too dark to see the road",
    )


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
