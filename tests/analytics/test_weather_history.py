"""Weather history: past hours fetched with each forecast, stored per camera, read as evidence.

Open-Meteo responses here are DERIVED from the recorded Toronto response (it has no dew point,
snowfall or snow depth series: `derived_open_meteo` adds them); NWS observation lists are
DERIVED from the one recorded observation (`derived_observations`).
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine

from analytics.alerts import forecast_state, refresh_forecast
from analytics.evidence import Support, WeatherEvidence
from analytics.models import WeatherHour
from analytics.weather.history import evidence_for
from tests.analytics.conftest import (
    NWS_OBSERVATIONS,
    Override,
    derived_observations,
    derived_open_meteo,
    freezing_rain,
    snowless_warm_days,
)

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 3, 5, 12, 30, tzinfo=UTC)
THIS_HOUR = dt.datetime(2026, 3, 5, 12, tzinfo=UTC)
# The derived response starts at midnight three days back: 72 + 13 hours up to 12:00.
PAST_HOURS = 85
NEUTRAL = Override(
    temperature_c=2,
    dew_point_c=-1,
    precipitation_mm=0,
    snowfall_cm=0,
    snow_depth_cm=5,
    weather_code=3,
)


@pytest.fixture
def toronto_camera(camera):
    camera.latitude, camera.longitude, camera.time_zone = 43.7046, -79.4046, "America/Toronto"
    camera.save()
    return camera


@pytest.fixture
def us_camera(camera):
    camera.latitude, camera.longitude = 30, -85
    camera.save()
    return camera


def refresh_at(camera, when: dt.datetime):
    with time_machine.travel(when, tick=False):
        return refresh_forecast(camera)


def test_it_asks_open_meteo_for_three_past_days_in_the_forecast_request(open_meteo, toronto_camera):
    open_meteo.routes["/v1/forecast"] = derived_open_meteo(NOW, [NEUTRAL])
    refresh_at(toronto_camera, NOW)
    query = open_meteo.queries[open_meteo.requests.index("/v1/forecast")]
    assert "past_days=3" in query
    assert "dew_point_2m" in query and "snow_depth" in query and "temperature_2m" in query


def test_it_stores_open_meteo_past_hours_and_sums_them_as_evidence(open_meteo, toronto_camera):
    snow = Override(range(-30, -26), snowfall_cm=2, precipitation_mm=2, weather_code=73)
    rain = Override(range(-3, 1), precipitation_mm=0.5, weather_code=61)
    frost = Override(range(-50, -40), temperature_c=-2)
    open_meteo.routes["/v1/forecast"] = derived_open_meteo(NOW, [NEUTRAL, snow, rain, frost])
    snapshot = refresh_at(toronto_camera, NOW)
    assert snapshot is not None and snapshot.ok
    assert toronto_camera.weather_hours.count() == PAST_HOURS
    snowy = toronto_camera.weather_hours.get(time=THIS_HOUR - 30 * HOUR)
    # Stored in metric from the response's inch and feet.
    assert snowy.snowfall_cm == pytest.approx(2.0)
    assert snowy.snow_depth_cm == pytest.approx(5.0)
    assert (snowy.provider, snowy.weather_code, snowy.temperature_c) == ("open-meteo", 73, 2.0)

    with time_machine.travel(NOW, tick=False):
        evidence = evidence_for(toronto_camera, NOW)
    expected = WeatherEvidence(
        temperature_c=2.0,
        dew_point_c=-1.0,
        snowfall_24h_cm=0.0,
        snowfall_72h_cm=8.0,
        precipitation_6h_mm=2.0,
        precipitation_24h_mm=2.0,
        freezing_precipitation_12h=False,
        hours_below_freezing_72h=10,
        snow_depth_cm=5.0,
        hours_known=72,
        source="open-meteo",
    )
    assert evidence.as_dict() == pytest.approx(expected.as_dict())


def test_it_upserts_a_refetch_without_duplicates(open_meteo, toronto_camera):
    open_meteo.routes["/v1/forecast"] = derived_open_meteo(NOW, [NEUTRAL])
    refresh_at(toronto_camera, NOW)
    later = NOW + HOUR
    warmer = Override(temperature_c=4)
    open_meteo.routes["/v1/forecast"] = derived_open_meteo(later, [NEUTRAL, warmer])
    refresh_at(toronto_camera, later)
    assert toronto_camera.weather_hours.count() == PAST_HOURS + 1
    assert toronto_camera.weather_hours.get(time=THIS_HOUR).temperature_c == 4.0


def test_it_prunes_hours_older_than_ten_days(open_meteo, toronto_camera):
    for age in (11, 9):
        WeatherHour.objects.create(
            camera=toronto_camera, time=THIS_HOUR - dt.timedelta(days=age), provider="old"
        )
    open_meteo.routes["/v1/forecast"] = derived_open_meteo(NOW, [NEUTRAL])
    refresh_at(toronto_camera, NOW)
    old = toronto_camera.weather_hours.filter(provider="old")
    assert [h.time for h in old] == [THIS_HOUR - dt.timedelta(days=9)]


def break_series(data, name, how):
    series = data["hourly"][name]
    if how == "missing":
        del data["hourly"][name]
    elif how == "nulls":
        series[:] = [None] * len(series)
    elif how == "short":
        del series[10:]
    elif how == "strings":
        series[:] = ["n/a"] * len(series)
    elif how == "not a list":
        data["hourly"][name] = "n/a"


@pytest.mark.parametrize("how", ["missing", "nulls", "short", "strings", "not a list"])
@pytest.mark.parametrize("name", ["temperature_2m", "dew_point_2m", "precipitation", "snowfall"])
def test_it_keeps_the_forecast_and_warns_when_the_history_is_malformed(
    open_meteo, toronto_camera, caplog, name, how
):
    broken = derived_open_meteo(NOW, [NEUTRAL])
    break_series(broken, name, how)
    open_meteo.routes["/v1/forecast"] = broken
    with caplog.at_level(logging.WARNING):
        snapshot = refresh_at(toronto_camera, NOW)
    assert snapshot is not None and snapshot.ok
    # The forecast as always: 24 h back (from 13:00 yesterday) to the end of tomorrow.
    assert len(snapshot.hourly) == 11 + 24 + 24
    assert any("Open-Meteo hourly data incomplete" in r.getMessage() for r in caplog.records)
    # The hours are kept; what was broken is "not reported", never a made-up 0.
    assert toronto_camera.weather_hours.count() == PAST_HOURS
    field = {
        "temperature_2m": "temperature_c",
        "dew_point_2m": "dew_point_c",
        "precipitation": "precipitation_mm",
        "snowfall": "snowfall_cm",
    }[name]
    newest = toronto_camera.weather_hours.get(time=THIS_HOUR)
    if name == "snowfall":
        # Without a snowfall value it is estimated from the weather code (3: none falls).
        assert newest.snowfall_cm == 0.0
    else:
        assert getattr(newest, field) is None


def test_it_skips_hours_with_unreadable_times_and_keeps_the_rest(
    open_meteo, toronto_camera, caplog
):
    data = derived_open_meteo(NOW, [NEUTRAL])
    data["hourly"]["time"][0] = "yesterday"
    open_meteo.routes["/v1/forecast"] = data
    with caplog.at_level(logging.WARNING):
        snapshot = refresh_at(toronto_camera, NOW)
    assert snapshot is not None and snapshot.ok
    assert toronto_camera.weather_hours.count() == PAST_HOURS - 1
    assert "1 unreadable time" in caplog.text


def test_it_gives_no_sums_under_80_percent_of_the_window(open_meteo, toronto_camera):
    open_meteo.routes["/v1/forecast"] = derived_open_meteo(NOW, [NEUTRAL])
    refresh_at(toronto_camera, NOW)
    # 5 of the last 24 hours missing leaves 19 (79 %); the 6 h window keeps 6 of 6.
    toronto_camera.weather_hours.filter(
        time__gt=THIS_HOUR - 24 * HOUR, time__lte=THIS_HOUR - 19 * HOUR
    ).delete()
    evidence = evidence_for(toronto_camera, NOW)
    assert evidence.precipitation_24h_mm is None and evidence.snowfall_24h_cm is None
    assert evidence.precipitation_6h_mm == 0.0
    assert evidence.hours_known == 67


def test_it_gives_empty_evidence_without_history_or_forecast(camera):
    assert evidence_for(camera, NOW) == WeatherEvidence()


def test_it_takes_the_forecasts_temperature_when_no_hour_is_recent(open_meteo, toronto_camera):
    open_meteo.routes["/v1/forecast"] = derived_open_meteo(NOW, [NEUTRAL])
    refresh_at(toronto_camera, NOW)
    toronto_camera.weather_hours.filter(time__gt=THIS_HOUR - 3 * HOUR).delete()
    with time_machine.travel(NOW, tick=False):
        recent = evidence_for(toronto_camera, NOW)
    with time_machine.travel(NOW + 3 * HOUR, tick=False):
        earlier = evidence_for(toronto_camera, NOW)
    assert (recent.temperature_c, recent.dew_point_c) == (2.0, -1.0)
    assert (earlier.temperature_c, earlier.dew_point_c) == (None, None)
    assert recent.source == earlier.source == "open-meteo"


def test_it_rules_out_snow_after_three_snowless_days_at_15_degrees(open_meteo, toronto_camera):
    open_meteo.routes["/v1/forecast"] = snowless_warm_days(NOW)
    refresh_at(toronto_camera, NOW)
    with time_machine.travel(NOW, tick=False):
        evidence = evidence_for(toronto_camera, NOW)
    assert (evidence.snowfall_72h_cm, evidence.hours_below_freezing_72h) == (0.0, 0)
    assert evidence.snow().support == Support.RULES_OUT
    assert evidence.moisture().support == Support.RULES_OUT
    assert evidence.dry_and_mild()


def test_it_sees_freezing_rain_behind_and_alerts_ice_ahead(open_meteo, toronto_camera):
    open_meteo.routes["/v1/forecast"] = freezing_rain(NOW)
    refresh_at(toronto_camera, NOW)
    with time_machine.travel(NOW, tick=False):
        evidence = evidence_for(toronto_camera, NOW)
        alerts = forecast_state(toronto_camera).alerts
    assert evidence.freezing_precipitation_12h is True
    assert evidence.precipitation_6h_mm == pytest.approx(3.0)
    assert (evidence.temperature_c, evidence.hours_below_freezing_72h) == (-1.0, 72)
    assert evidence.moisture().support == Support.SUPPORTS
    assert evidence.freezing().support == Support.SUPPORTS
    # 07:00–14:00 Toronto (EST) is 12:00–19:00 UTC, the hour of NOW and six after it.
    assert [a.text for a in alerts] == ["Ice possible Thu 07:00–14:00"]


NWS_NOW = dt.datetime(2022, 3, 3, 0, 30, tzinfo=UTC)


def at(hours: int, minutes: int) -> dt.datetime:
    return dt.datetime(2022, 3, 2, hours, minutes, tzinfo=UTC)


def test_it_buckets_nws_observations_per_hour(nws, us_camera, caplog):
    light_snow = [{"intensity": "light", "modifier": None, "weather": "snow", "rawString": "-SN"}]
    freezing = [
        {"intensity": "light", "modifier": "freezing", "weather": "rain", "rawString": "-FZRA"}
    ]
    rain = [{"intensity": None, "modifier": None, "weather": "rain", "rawString": "RA"}]
    nws.routes[NWS_OBSERVATIONS] = derived_observations(
        [
            {"timestamp": NWS_NOW - dt.timedelta(hours=80)},  # before the 72 h asked for
            {"timestamp": at(20, 53), "text": "Rain", "present_weather": rain},
            {
                "timestamp": at(21, 53),
                "temperature_c": -1.0,
                "text": "Light Snow",
                "present_weather": light_snow,
                "precipitation_mm": 1.0,
                "snow_depth_cm": 5,
            },
            {
                "timestamp": at(22, 53),
                "temperature_c": -0.5,
                "text": "Light Freezing Rain",
                "present_weather": freezing,
                "precipitation_mm": 0.5,
            },
            {"timestamp": at(23, 10), "temperature_c": 21.0, "precipitation_mm": 0.2},
            # The recording itself (22.8 °C, nothing falling), with 0.1 mm in the last hour.
            {"timestamp": at(23, 53), "precipitation_mm": 0.1},
            {"timestamp": NWS_NOW + HOUR},  # after now
        ]
    )
    nws.json(NWS_OBSERVATIONS)["features"].append({"properties": {"timestamp": "soon"}})
    with caplog.at_level(logging.WARNING):
        snapshot = refresh_at(us_camera, NWS_NOW)
    assert snapshot is not None and snapshot.ok
    assert "skipped 1 observations without a readable time" in caplog.text
    assert "start=2022-02-28T00%3A00%3A00%2B00%3A00" in nws.queries[-1]
    hours = {h.time.hour: h for h in us_camera.weather_hours.order_by("time")}
    assert sorted(hours) == [20, 21, 22, 23]
    assert (hours[20].precipitation_mm, hours[20].snowfall_cm) == (None, 0.0)
    snowy = hours[21]
    # Snow at 10:1 from the hour's water: 1 mm → 1 cm.
    assert (snowy.temperature_c, snowy.precipitation_mm, snowy.snowfall_cm) == (-1.0, 1.0, 1.0)
    assert (snowy.snow_depth_cm, snowy.description) == (5.0, "Light Snow")
    assert hours[22].freezing_precipitation and not hours[21].freezing_precipitation
    # Newest temperature of the hour; the larger of its two amounts, not their sum.
    assert (hours[23].temperature_c, hours[23].precipitation_mm) == (22.8, 0.2)
    assert (hours[23].dew_point_c, hours[23].provider) == (18.3, "nws")


def test_it_keeps_the_nws_forecast_when_observations_are_missing(nws, us_camera, caplog):
    # The recorded grid forecast starts 2022-02-03T21:00Z; no observation list is served.
    with caplog.at_level(logging.WARNING):
        snapshot = refresh_at(us_camera, dt.datetime(2022, 2, 4, tzinfo=UTC))
    assert snapshot is not None and snapshot.ok and snapshot.hourly
    assert not us_camera.weather_hours.exists()
    assert "nws gave no weather history" in caplog.text
