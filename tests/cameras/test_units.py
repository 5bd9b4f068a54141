"""Display units (cameras.units): which a camera shows, and how values are written."""

from __future__ import annotations

import zoneinfo
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from cameras.models import Camera
from cameras.units import (
    US_ZONES,
    Units,
    in_united_states,
    temperature_text,
    units_at,
    units_for,
)


@pytest.mark.parametrize(
    ("place", "lat", "lon"),
    [
        ("Denver", 39.74, -104.99),
        ("Seattle", 47.61, -122.33),
        ("Detroit", 42.33, -83.05),
        ("Buffalo", 42.89, -78.88),
        ("Caribou, Maine", 46.86, -68.01),
        ("Key West", 24.56, -81.78),
        ("El Paso", 31.76, -106.49),
        ("San Diego", 32.72, -117.16),
        ("International Falls", 48.6, -93.41),
        ("Anchorage", 61.22, -149.9),
        ("Juneau", 58.3, -134.42),
        ("Honolulu", 21.31, -157.86),
        ("San Juan", 18.47, -66.11),
        ("Guam", 13.44, 144.79),
    ],
)
def test_it_places_us_cities_in_the_united_states(place: str, lat: float, lon: float) -> None:
    assert in_united_states(lat, lon), place


@pytest.mark.parametrize(
    ("place", "lat", "lon"),
    [
        ("Vancouver", 49.28, -123.12),
        ("Toronto", 43.65, -79.38),
        ("Montreal", 45.5, -73.57),
        ("Winnipeg", 49.9, -97.14),
        ("Thunder Bay", 48.38, -89.25),
        ("Halifax", 44.65, -63.57),
        ("Whitehorse", 60.72, -135.06),
        ("Monterrey", 25.69, -100.32),
        ("Ensenada", 31.87, -116.6),
        ("Havana", 23.11, -82.37),
        ("Nassau", 25.04, -77.35),
        ("Oslo", 59.91, 10.75),
    ],
)
def test_it_leaves_neighbours_and_the_rest_of_the_world_out(
    place: str, lat: float, lon: float
) -> None:
    assert not in_united_states(lat, lon), place


def test_it_settles_a_border_town_by_its_time_zone() -> None:
    # Windsor, Ontario faces Detroit across the river: the outline cannot tell them apart.
    assert units_at(42.30, -83.02, "America/Detroit") == Units.US
    assert units_at(42.30, -83.02, "America/Toronto") == Units.METRIC
    assert units_at(42.30, -83.02, "UTC") == Units.US


def test_it_shows_metric_without_coordinates() -> None:
    assert units_at(None, None, "America/Denver") == Units.METRIC


def test_it_knows_only_real_us_time_zones() -> None:
    assert zoneinfo.available_timezones() >= US_ZONES


def demo_like(**fields: object) -> Camera:
    values: dict[str, object] = {
        "name": "Demo camera",
        "slug": "demo",
        "location_name": "Demo Road at Main St",
        "latitude": 39.74,
        "longitude": -104.99,
        "time_zone": "America/Denver",
    }
    values.update(fields)
    return Camera(**values)


def test_it_gives_the_demo_camera_in_denver_us_units(db) -> None:
    call_command("demo", stdout=StringIO())
    assert Camera.objects.get(slug="demo").display_units == Units.US


def test_it_lets_the_camera_choice_beat_the_site_and_the_site_beat_the_place(settings) -> None:
    settings.UNITS = "auto"
    assert units_for(demo_like()) == Units.US
    assert units_for(demo_like(latitude=59.91, longitude=10.75)) == Units.METRIC
    settings.UNITS = "metric"
    assert units_for(demo_like()) == Units.METRIC
    assert units_for(demo_like(units="us")) == Units.US
    settings.UNITS = "us"
    assert units_for(demo_like(latitude=59.91, longitude=10.75)) == Units.US
    assert units_for(demo_like(units="metric")) == Units.METRIC


@pytest.mark.parametrize(
    ("celsius", "units", "text"),
    [
        (-2.5, Units.METRIC, "−2.5 °C"),
        (-2.5, Units.US, "27.5 °F"),
        (-0.02, Units.METRIC, "0.0 °C"),
        (-17.8, Units.US, "0.0 °F"),
        (-20.0, Units.US, "−4.0 °F"),
        (None, Units.US, ""),
    ],
)
def test_it_writes_temperatures_as_people_read_them(
    celsius: float | None, units: Units, text: str
) -> None:
    assert temperature_text(celsius, units) == text


def test_it_refuses_half_a_position(db) -> None:
    with pytest.raises(ValidationError) as info:
        demo_like(longitude=None).save()
    assert info.value.message_dict == {
        "longitude": ["Give both latitude and longitude, or neither."]
    }


def test_it_refuses_units_it_does_not_know(db) -> None:
    with pytest.raises(ValidationError) as info:
        demo_like(units="imperial").save()
    assert set(info.value.message_dict) == {"units"}
