"""Alerts from recorded forecasts, in the camera's zone; and the provider being down."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from analytics.alerts import ForecastStatus, forecast_state, refresh_forecast, snow_amount
from analytics.models import ForecastSnapshot
from cameras.units import Units

# detailed_forecast.json starts 2022-02-03T21:00Z; 2022-02-04 was a Friday.
NWS_NOW = dt.datetime(2022, 2, 4, 0, 0, tzinfo=dt.UTC)
# The Toronto recording; 2026-03-05 is a Thursday.
TORONTO_NOW = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def us_camera(camera):
    camera.latitude, camera.longitude, camera.time_zone = 30, -85, "America/New_York"
    camera.save()
    return camera


@pytest.fixture
def toronto_camera(camera):
    camera.latitude, camera.longitude, camera.time_zone = 43.7046, -79.4046, "America/Toronto"
    camera.save()
    return camera


def texts(camera) -> list[str]:
    return [a.text for a in forecast_state(camera).alerts]


@pytest.mark.parametrize(
    ("total", "text"), [(0.4, "under 1 cm"), (3.0, "2–4 cm"), (1.2, "1–2 cm"), (10, "7–13 cm")]
)
def test_it_gives_snow_as_a_rounded_range(total, text):
    assert snow_amount(total) == text


@pytest.mark.parametrize(
    ("total", "text"),
    [(2.0, "under 1 in"), (3.0, "1–2 in"), (10, "2–5 in"), (25.4, "7–13 in")],
)
def test_it_gives_snow_in_whole_inches_for_us_units(total, text):
    assert snow_amount(total, Units.US) == text


def snowy_nws(nws) -> None:
    """Derived: the recording's snowfallAmount for 2022-02-04T06:00Z/PT6H set to 30 mm."""
    layer = nws.json("/gridpoints/TAE/58,65")["properties"]["snowfallAmount"]["values"]
    next(v for v in layer if v["validTime"].startswith("2022-02-04T06"))["value"] = 30


def test_it_words_snow_in_the_units_the_camera_chose(nws, us_camera):
    snowy_nws(nws)
    us_camera.units = "metric"
    us_camera.save()
    with time_machine.travel(NWS_NOW, tick=False):
        refresh_forecast(us_camera)
        assert texts(us_camera) == ["Snow 2–4 cm from Fri 01:00"]
        # Alerts are worded when read: a change of units shows at once, without a new fetch.
        us_camera.units = "us"
        us_camera.save()
        assert texts(us_camera) == ["Snow 1–2 in from Fri 01:00"]


def test_it_follows_the_site_units_where_the_camera_leaves_them_on_auto(nws, us_camera, settings):
    snowy_nws(nws)
    settings.UNITS = "metric"
    with time_machine.travel(NWS_NOW, tick=False):
        refresh_forecast(us_camera)
        assert texts(us_camera) == ["Snow 2–4 cm from Fri 01:00"]


def test_it_keeps_centimetres_in_toronto_and_inches_where_the_site_says_us(
    open_meteo, toronto_camera, settings
):
    with time_machine.travel(TORONTO_NOW, tick=False):
        refresh_forecast(toronto_camera)
        assert texts(toronto_camera) == ["Snow 1–2 cm from Thu 17:00"]
        settings.UNITS = "us"
        assert texts(toronto_camera) == ["Snow under 1 in from Thu 17:00"]


def test_it_stores_the_alerts_in_the_cameras_units_too(nws, us_camera):
    snowy_nws(nws)
    with time_machine.travel(NWS_NOW, tick=False):
        snapshot = refresh_forecast(us_camera)
    assert snapshot is not None
    [alert] = snapshot.alerts
    assert (alert["text"], alert["snowfall_cm"]) == ("Snow 1–2 in from Fri 01:00", 3.0)


def test_it_gives_no_alert_when_none_is_due(nws, us_camera):
    with time_machine.travel(NWS_NOW, tick=False):
        refresh_forecast(us_camera)
        state = forecast_state(us_camera)
    assert (state.status, state.alerts) == (ForecastStatus.OK, [])
    assert state.temperature_c == 22.8


def test_it_alerts_nws_snow_with_amount_and_local_start(nws, us_camera):
    """Derived: the recording's snowfallAmount for 2022-02-04T06:00Z/PT6H set to 30 mm. The
    camera is in Florida, so the amount is in inches (3 cm is 1.2 in)."""
    layer = nws.json("/gridpoints/TAE/58,65")["properties"]["snowfallAmount"]["values"]
    next(v for v in layer if v["validTime"].startswith("2022-02-04T06"))["value"] = 30
    with time_machine.travel(NWS_NOW, tick=False):
        refresh_forecast(us_camera)
        assert texts(us_camera) == ["Snow 1–2 in from Fri 01:00"]
        [alert] = forecast_state(us_camera).alerts
    assert alert.snowfall_cm == pytest.approx(3.0)


def test_it_alerts_nws_ice_accumulation_as_a_local_span(nws, us_camera):
    """Derived: the recording's iceAccumulation for 2022-02-04T12:00Z/PT6H set to 2 mm."""
    layer = nws.json("/gridpoints/TAE/58,65")["properties"]["iceAccumulation"]["values"]
    next(v for v in layer if v["validTime"].startswith("2022-02-04T12"))["value"] = 2
    with time_machine.travel(NWS_NOW, tick=False):
        refresh_forecast(us_camera)
        assert texts(us_camera) == ["Ice possible Fri 07:00–13:00"]


def test_it_alerts_open_meteo_snow_in_toronto_time(open_meteo, toronto_camera):
    """Real recording: weather code 71 at 17:00 Toronto, 0.067 in of water (about 1.2 cm)."""
    with time_machine.travel(TORONTO_NOW, tick=False):
        refresh_forecast(toronto_camera)
        assert texts(toronto_camera) == ["Snow 1–2 cm from Thu 17:00"]


def test_it_alerts_open_meteo_freezing_drizzle_after_the_dst_change(open_meteo, toronto_camera):
    """Real recording: freezing drizzle (codes 56/57) 02:00–10:00 on Wed 11 March (EDT)."""
    with time_machine.travel(dt.datetime(2026, 3, 10, 18, tzinfo=dt.UTC), tick=False):
        refresh_forecast(toronto_camera)
        assert texts(toronto_camera) == ["Ice possible Wed 02:00–11:00"]


def test_it_only_looks_24_hours_ahead(open_meteo, toronto_camera):
    with time_machine.travel(dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC), tick=False):
        refresh_forecast(toronto_camera)
        assert texts(toronto_camera) == []


def test_it_says_forecast_unavailable_and_keeps_the_last_good_one(nws, us_camera):
    layer = nws.json("/gridpoints/TAE/58,65")["properties"]["snowfallAmount"]["values"]
    next(v for v in layer if v["validTime"].startswith("2022-02-04T06"))["value"] = 30
    with time_machine.travel(NWS_NOW, tick=False):
        refresh_forecast(us_camera)
    nws.routes["/points/30,-85"] = 500
    with time_machine.travel(NWS_NOW + dt.timedelta(hours=2), tick=False):
        failed = refresh_forecast(us_camera)
        state = forecast_state(us_camera)
    assert failed is not None and "HTTP 500" in failed.error
    assert state.status == ForecastStatus.UNAVAILABLE
    assert state.message.startswith("Forecast unavailable")
    assert [a.text for a in state.alerts] == ["Snow 1–2 in from Fri 01:00"]


def test_it_stops_serving_a_forecast_that_is_too_old(nws, us_camera):
    with time_machine.travel(NWS_NOW, tick=False):
        refresh_forecast(us_camera)
    nws.routes["/points/30,-85"] = 500
    with time_machine.travel(NWS_NOW + dt.timedelta(hours=7), tick=False):
        refresh_forecast(us_camera)
        state = forecast_state(us_camera)
    assert (state.status, state.alerts, state.provider) == (ForecastStatus.UNAVAILABLE, [], "")


def test_it_survives_an_unreachable_provider(weather_server, us_camera, settings):
    settings.NWS_API_URL = "http://127.0.0.1:9"
    snapshot = refresh_forecast(us_camera)
    assert snapshot is not None and "could not be reached" in snapshot.error
    assert forecast_state(us_camera).status == ForecastStatus.UNAVAILABLE


def test_it_skips_a_camera_without_a_place(camera):
    assert refresh_forecast(camera) is None
    assert forecast_state(camera).status == ForecastStatus.NO_LOCATION
    assert not ForecastSnapshot.objects.exists()


def test_it_names_the_service_not_the_request_url_when_it_is_down(us_camera, settings):
    settings.NWS_API_URL = settings.OPEN_METEO_API_URL = "http://127.0.0.1:9"
    snapshot = refresh_forecast(us_camera)
    assert snapshot is not None
    assert snapshot.error.endswith("127.0.0.1:9 could not be reached: Connection refused")
    assert "/points/" not in snapshot.error and "forecast?" not in snapshot.error
