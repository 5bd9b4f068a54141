from __future__ import annotations

import datetime as dt

import cv2

from analytics.models import WeatherHour
from analytics.service import analyze_frame
from cameras.capture import store_frame
from cameras.sources import Grab
from cameras.sources.demo import render_scene

NOON = dt.datetime(2026, 1, 15, 17, 0, tzinfo=dt.UTC)


def weather(camera, at):
    for h in range(72):
        WeatherHour.objects.create(camera=camera, time=at.replace(minute=0) - dt.timedelta(hours=h),
            provider="open-meteo", temperature_c=-3, dew_point_c=-5, precipitation_mm=0.5, snowfall_cm=0.5)


import pytest
@pytest.mark.parametrize("poly", [None, [[0,1],[0,0.45],[1,0.45],[1,1]], [[0.2,1],[0.45,0.4],[0.6,0.4],[0.9,1]]])
def test_scratch(camera, poly):
    from analytics.models import RoadRegion
    from analytics.service import road_region
    weather(camera, NOON)
    if poly:
        RoadRegion.objects.create(camera=camera, operator_polygon=poly)
    for i, snow in enumerate([True, True, False, True]):
        at = NOON + dt.timedelta(minutes=i)
        local = at.astimezone(camera.tz)
        img = render_scene(640, 360, local, snow=snow, seed=i)
        ok, buf = cv2.imencode(".jpg", img)
        f = store_frame(camera, Grab(jpeg=buf.tobytes(), width=640, height=360), at)
        r = analyze_frame(f)
        print(snow, r.state, r.level, r.reason, r.confidence, r.notes, r.features(), r.published_state)
    print(road_region(camera).effective_polygon())
    assert 0
