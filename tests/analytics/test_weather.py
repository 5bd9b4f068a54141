"""Weather providers against recorded responses served locally, through the real client."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.weather import Hour, ProviderError, fetch_forecast
from analytics.weather.nws import NWSProvider, parse_interval
from analytics.weather.open_meteo import OpenMeteoProvider

UTC = dt.UTC


def test_it_spreads_an_iso_interval_over_its_hours():
    assert parse_interval("2019-04-04T06:00:00+00:00/PT3H") == (
        dt.datetime(2019, 4, 4, 6, tzinfo=UTC),
        3,
    )
    assert parse_interval("2022-02-03T13:00:00+00:00/P1DT11H")[1] == 35


def test_it_reads_nws_hours_from_the_grid_and_the_hourly_forecast(nws):
    hours = {h.time: h for h in NWSProvider().hourly(30, -85)}
    # Grid: 18.89 °C holds for the 10 hours of 2022-02-04T01:00/PT10H.
    assert hours[dt.datetime(2022, 2, 4, 5, tzinfo=UTC)].temperature_c == 18.9
    # 2.032 mm of rain in 06:00/PT6H is shared out over six hours.
    assert hours[dt.datetime(2022, 2, 4, 7, tzinfo=UTC)].precipitation_mm == pytest.approx(0.339)
    # The hourly forecast (2019-10-14 20:00 -04:00) is merged in, in UTC.
    assert hours[dt.datetime(2019, 10, 15, 0, tzinfo=UTC)].temperature_c == 25.5
    assert all(agent.startswith("imgserv/") for agent in nws.user_agents)


def test_it_reads_the_latest_observation(nws):
    assert NWSProvider().current_temperature(30, -85) == 22.8


def test_it_keeps_an_observed_zero_degrees(nws):
    """Derived: the recorded observation with its temperature changed to 0 °C."""
    nws.json("/stations/KCMH/observations/latest")["properties"]["temperature"]["value"] = 0
    assert NWSProvider().current_temperature(30, -85) == 0.0


def test_it_treats_a_null_observation_as_missing(nws):
    nws.json("/stations/KCMH/observations/latest")["properties"]["temperature"]["value"] = None
    assert NWSProvider().current_temperature(30, -85) is None


def test_it_reads_open_meteo_in_its_own_zone_and_units(open_meteo):
    forecast = OpenMeteoProvider().forecast(43.7, -79.4)
    first = forecast.hours[0]
    # 2026-03-04T00:00 Toronto (EST) is 05:00 UTC; 32.0 °F is 0 °C.
    assert (first.time, first.temperature_c) == (dt.datetime(2026, 3, 4, 5, tzinfo=UTC), 0.0)
    assert forecast.current_temperature_c == 0.3
    snow = next(h for h in forecast.hours if h.weather_code == 71)
    # No snowfall series: 0.067 in of water in a snow hour at 0.7 cm per mm.
    assert snow.snowfall_cm == pytest.approx(1.191, abs=0.001)


def test_it_falls_back_to_open_meteo_where_the_nws_answers_404(open_meteo):
    forecast = fetch_forecast(43.7046, -79.4046)
    assert forecast.provider == "open-meteo"
    assert open_meteo.requests[0] == "/points/43.7046,-79.4046"


def test_it_uses_open_meteo_outside_the_us(open_meteo):
    assert fetch_forecast(59.91, 10.75).provider == "open-meteo"
    assert open_meteo.requests == ["/v1/forecast"]


def test_it_raises_a_provider_error_when_the_service_is_down(weather_server):
    weather_server.routes["/points/30,-85"] = 503
    with pytest.raises(ProviderError, match="503"):
        fetch_forecast(30, -85)


def test_it_caches_for_the_servers_max_age(nws):
    nws.cache_control = "public, max-age=600"
    NWSProvider().hourly(30, -85)
    NWSProvider().hourly(30, -85)
    assert nws.requests.count("/points/30,-85") == 1


def test_it_asks_again_when_the_server_forbids_caching(nws):
    NWSProvider().hourly(30, -85)
    NWSProvider().hourly(30, -85)
    assert nws.requests.count("/points/30,-85") == 2


def test_it_reads_a_stored_hour_saved_before_dew_point_and_snow_depth():
    old = {
        "time": "2026-03-05T12:00:00+00:00",
        "temperature_c": -1.0,
        "snowfall_cm": 0.0,
        "ice_mm": 0.0,
        "precipitation_mm": 0.0,
        "precip_probability": None,
        "weather_code": 3,
        "description": "",
    }
    hour = Hour.from_json(old)
    assert (hour.temperature_c, hour.dew_point_c, hour.snow_depth_cm) == (-1.0, None, None)
    assert Hour.from_json(hour.to_json()) == hour


def test_it_reads_the_nws_dew_point_from_the_grid(nws):
    hours = {h.time: h for h in NWSProvider().hourly(30, -85)}
    # Grid: 18.33 °C holds for the 10 hours of 2022-02-04T02:00/PT10H.
    assert hours[dt.datetime(2022, 2, 4, 5, tzinfo=UTC)].dew_point_c == 18.3
