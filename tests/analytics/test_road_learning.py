"""A real stored series: the demo camera's frames, analysed as the worker does, with the
weather history fetched from a local server (recorded Open-Meteo responses, derived).

While the weather says dry and mild the camera learns its bare road; when the demo's snow
comes on and the weather turns snowy, the frames read Snow, and the published state holds
steady over ten consecutive frames."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from analytics import analysis
from analytics.alerts import refresh_forecast
from analytics.kinds import MIN_SAMPLES, Light, State
from analytics.models import ConditionReading, RoadReference
from cameras.capture import store_frame
from cameras.models import Camera, Frame, SourceKind
from cameras.sources.demo import DemoSource
from tests.analytics.conftest import Override, derived_open_meteo, snowless_warm_days

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# Munich in February at noon: the sun ~27° up, so the frames are taken in daylight.
START = dt.datetime(2026, 2, 10, 12, 0, tzinfo=BERLIN)
SPACING = dt.timedelta(seconds=30)


def snowing(now: dt.datetime) -> dict:
    """DERIVED from the recorded Toronto response (see `derived_open_meteo`): dry at −3 °C
    until 4 hours before `now`, then snow, 0.5 cm an hour, with 2 cm on the ground."""
    cold = Override(temperature_c=-3, dew_point_c=-5, precipitation_mm=0, snowfall_cm=0)
    snow = Override(
        range(-3, 6), precipitation_mm=0.5, snowfall_cm=0.5, snow_depth_cm=2, weather_code=73
    )
    return derived_open_meteo(now, [cold, snow])


@pytest.fixture
def munich(db) -> Camera:
    return Camera.objects.create(
        name="Munich ring road",
        slug="munich",
        location_name="Mittlerer Ring",
        time_zone="Europe/Berlin",
        latitude=48.14,
        longitude=11.58,
        source_kind=SourceKind.DEMO,
        capture_width=640,
        capture_height=360,
    )


def fetched(camera: Camera) -> None:
    snapshot = refresh_forecast(camera)
    assert snapshot is not None and snapshot.error == ""


def capture(camera: Camera, at: dt.datetime, snow: bool) -> Frame:
    """One frame of the demo scene at local time `at`, stored as capture stores it."""
    source = DemoSource(640, 360, snow=snow, clock=lambda: at)
    return store_frame(camera, source.grab(), at)


def series(camera: Camera, start: dt.datetime, count: int, snow: bool) -> list[ConditionReading]:
    readings = []
    for i in range(count):
        at = start + i * SPACING
        with time_machine.travel(at, tick=False):
            frame = capture(camera, at, snow)
            reading = analysis.analyze_frame(frame)
        assert reading is not None
        readings.append(reading)
    return readings


def test_it_learns_the_bare_road_then_reads_the_snow_without_flicker(munich, weather_server):
    with time_machine.travel(START, tick=False):
        weather_server.routes["/v1/forecast"] = snowless_warm_days(START)
        fetched(munich)
    for i in range(5):  # the road is found from a few frames, with its traffic
        capture(munich, START - dt.timedelta(minutes=5) + i * SPACING, snow=False)
    region = analysis.detect_region(munich)
    assert region is not None and region.method == "colour+motion"

    dry = series(munich, START, MIN_SAMPLES + 5, snow=False)
    assert {r.published_state for r in dry} == {State.DRY}
    learned = RoadReference.objects.get(camera=munich, light=Light.DAY)
    assert learned.samples >= MIN_SAMPLES

    snow_start = START + dt.timedelta(hours=3)
    with time_machine.travel(snow_start, tick=False):
        weather_server.routes["/v1/forecast"] = snowing(snow_start)
        fetched(munich)
    snowy = series(munich, snow_start, 10, snow=True)

    assert [r.state for r in snowy] == [State.SNOW] * 10, [r.reason for r in snowy]
    published = {(r.published_state, r.published_level) for r in snowy}
    assert len(published) == 1 and next(iter(published))[0] == State.SNOW
    # The learned road was asked and agreed: brighter, the lane paint hidden.
    assert all(r.comparison["snow_score"] >= 0.5 for r in snowy), snowy[0].comparison
    assert RoadReference.objects.get(pk=learned.pk).samples == learned.samples


def test_it_learns_nothing_while_the_weather_is_unknown(munich, weather_server):
    weather_server.routes["/v1/forecast"] = 503
    for i in range(5):
        capture(munich, START - dt.timedelta(minutes=5) + i * SPACING, snow=False)
    series(munich, START, 5, snow=False)
    assert not RoadReference.objects.filter(camera=munich).exists()
