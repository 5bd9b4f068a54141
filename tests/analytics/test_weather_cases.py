"""The weather history decides what is physically possible, through the same path as the
worker: refresh from a local server (recorded Open-Meteo responses, DERIVED as each case says),
then analyse a stored frame."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from analytics import analysis, service
from analytics.alerts import refresh_forecast
from analytics.decision import Reason, State
from analytics.models import RoadRegion
from cameras.capture import store_frame
from cameras.models import Camera, Frame, SourceKind
from cameras.sources import Grab
from tests.analytics.conftest import freezing_rain, image, snowless_warm_days
from tests.analytics.test_condition import GLOSSY, SNOWY

NOW = dt.datetime(2026, 3, 10, 11, 0, tzinfo=dt.UTC)
WHOLE_FRAME = [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0], [0.0, 1.0]]


@pytest.fixture
def oslo(db) -> Camera:
    camera = Camera.objects.create(
        name="Oslo E18",
        slug="oslo",
        location_name="E18 Oslo",
        time_zone="Europe/Oslo",
        latitude=59.91,
        longitude=10.75,
        source_kind=SourceKind.DEMO,
    )
    # The operator drew the road: these photos are not from this camera's own series.
    RoadRegion.objects.create(camera=camera, operator_polygon=WHOLE_FRAME)
    return camera


def stored(camera: Camera, relative: str) -> Frame:
    data = image(relative).read_bytes()
    return store_frame(camera, Grab(jpeg=data, width=250, height=250), NOW)


def analyse(camera: Camera, weather: dict, weather_server, relative: str):
    weather_server.routes["/v1/forecast"] = weather
    with time_machine.travel(NOW, tick=False):
        snapshot = refresh_forecast(camera)
        assert snapshot is not None and snapshot.error == ""
        reading = analysis.analyze_frame(stored(camera, relative))
    assert reading is not None
    return reading


def test_three_snowless_days_at_plus_15_keep_a_bright_frame_from_reading_snow(oslo, weather_server):
    """Derived case: every hour of the three days at +15 °C, no precipitation, no snowfall,
    no snow on the ground (`snowless_warm_days`)."""
    reading = analyse(oslo, snowless_warm_days(NOW), weather_server, SNOWY)
    assert reading.snow_coverage > 0.5  # the picture itself is as white as snow
    assert reading.state == State.UNKNOWN
    assert reading.reason.startswith(Reason.DISAGREE)
    assert reading.evidence["snowfall_72h_cm"] == 0.0
    assert reading.evidence["temperature_c"] == 15.0


def test_freezing_rain_makes_a_wet_road_ice_possible_and_the_alert_names_its_time(
    oslo, weather_server
):
    """Derived case: freezing rain (code 67, 1 mm an hour at −1 °C) in the 3 hours up to now
    and the 6 after, dry at −3 °C before (`freezing_rain`)."""
    reading = analyse(oslo, freezing_rain(NOW), weather_server, GLOSSY)
    assert (reading.state, reading.level) == (State.ICE, "ice_possible")
    assert reading.evidence["freezing_precipitation_12h"] is True
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        now = service.current_conditions(oslo)
    assert (now.state, now.label) == (State.ICE, "Ice possible")
    # Oslo is UTC+1 in March: freezing rain from 11:00 UTC is 12:00 local, to 18:00 UTC.
    assert now.alerts == ["Ice possible Tue 12:00–19:00"]


def test_the_same_wet_frame_in_mild_rain_is_wet_not_ice(oslo, weather_server):
    """Derived case: the freezing-rain hours at +6 °C instead (rain, not freezing rain)."""
    weather = freezing_rain(NOW)
    hourly = weather["hourly"]
    hourly["temperature_2m"] = [42.8] * len(hourly["temperature_2m"])  # +6 °C, in °F
    hourly["weather_code"] = [63 if code == 67 else code for code in hourly["weather_code"]]
    weather["current"]["temperature_2m"] = 42.8
    reading = analyse(oslo, weather, weather_server, GLOSSY)
    assert reading.state == State.WET
