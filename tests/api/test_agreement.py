"""`/api/cameras/<slug>/agreement`: the camera against its operators' labels, what the labels
changed and its learned bare road per light."""

from __future__ import annotations

import datetime as dt
import json

import time_machine

from analytics.models import FrameLabel, RoadReference

NOW = dt.datetime(2026, 2, 10, 12, 0, tzinfo=dt.UTC)


def label(camera, days_ago: float, truth: str, said: str, whiteness: float = 0.0) -> FrameLabel:
    return FrameLabel.objects.create(
        camera=camera,
        captured_at=NOW - dt.timedelta(days=days_ago),
        truth=truth,
        said_state=said,
        features={"snow_coverage": whiteness, "pale_coverage": whiteness, "wetness": 0.1},
    )


@time_machine.travel(NOW, tick=False)
def test_it_gives_the_agreement_what_the_labels_changed_and_the_learned_road(api, camera):
    label(camera, 1, "dry", "snow", whiteness=0.4)
    label(camera, 2, "dry", "snow", whiteness=0.2)
    label(camera, 3, "snow", "snow", whiteness=0.6)
    label(camera, 4, "not_visible", "unknown")
    label(camera, 5, "wet", "unknown")
    label(camera, 40, "dry", "wet")  # older than 30 days: learned from, not counted
    RoadReference.objects.create(camera=camera, light="day", samples=25, updated_at=NOW)

    response = api.get(f"/api/cameras/{camera.slug}/agreement")

    assert response.status_code == 200
    body = response.json()
    assert body["camera"] == camera.slug
    assert body["days"] == 30
    assert body["labels"] == ["dry", "wet", "snow", "ice", "not_visible"]
    assert body["states"] == ["dry", "wet", "snow", "ice", "unknown"]
    assert body["matrix"]["dry"] == {"dry": 0, "wet": 0, "snow": 2, "ice": 0, "unknown": 0}
    assert body["matrix"]["not_visible"]["unknown"] == 1
    assert (body["right"], body["wrong"], body["abstained"]) == (2, 2, 1)
    assert body["right_share"] == 0.5
    assert body["adjustments"] == ["snow threshold 0.10 → 0.46 from 5 labels"]
    assert body["reference"] == [
        {"light": "day", "samples": 25, "updated_at": "2026-02-10T12:00:00+00:00", "in_use": True},
        {"light": "twilight", "samples": 0, "updated_at": None, "in_use": False},
        {"light": "night", "samples": 0, "updated_at": None, "in_use": False},
    ]


def test_it_answers_a_camera_without_labels(api, camera):
    body = api.get(f"/api/cameras/{camera.slug}/agreement").json()
    assert (body["right"], body["wrong"], body["abstained"], body["right_share"]) == (0, 0, 0, None)
    assert body["adjustments"] == []
    assert [r["in_use"] for r in body["reference"]] == [False, False, False]


def test_it_answers_404_for_an_unknown_camera(api, db):
    assert api.get("/api/cameras/nope/agreement").status_code == 404


def test_it_is_read_only(api, staff_api, camera):
    for client in (api, staff_api):
        response = client.post(f"/api/cameras/{camera.slug}/agreement")
        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_it_is_documented_in_the_schema(api, db):
    schema = json.loads(api.get("/api/schema/", {"format": "json"}).content)
    get = schema["paths"]["/api/cameras/{slug}/agreement"]["get"]
    assert set(get["responses"]) == {"200", "401", "404", "429"}
    ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    assert {"matrix", "right_share", "adjustments", "reference"} <= set(fields)
