"""Display units: metric (°C, cm) or US (°F, inches), per camera or for the whole site.

Values are stored and computed in metric everywhere; only what people read is converted: the
overlay, the viewer, the published pages and the forecast alert texts. A camera's `units` is
"auto" unless an operator chose; "auto" follows the site's `UNITS` setting, and an "auto"
site decides from the camera's place: US units inside the United States and its territories,
metric elsewhere (and without coordinates).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from cameras.models import Camera


class Units(models.TextChoices):
    AUTO = "auto", "From the location (or the site's UNITS)"
    METRIC = "metric", "Metric (°C, cm)"
    US = "us", "US (°F, inches)"


# What a camera shows once "auto" is resolved.
SHOWN_UNITS = [(Units.METRIC.value, Units.METRIC.label), (Units.US.value, Units.US.label)]


# (south, north, west, east) in degrees: the states and territories away from the mainland.
# Longitudes east of 0 are the Aleutians west of the date line, Guam and the Marianas.
US_BOXES = (
    (51.0, 71.6, -180.0, -141.0),  # Alaska
    (54.6, 60.3, -141.0, -129.9),  # Alaska's panhandle
    (51.0, 53.1, 172.0, 180.0),  # the western Aleutians
    (18.8, 22.4, -160.6, -154.7),  # Hawaii
    (17.8, 18.6, -67.4, -64.5),  # Puerto Rico and the US Virgin Islands
    (13.2, 20.6, 144.6, 146.1),  # Guam and the Northern Mariana Islands
    (-14.6, -14.1, -171.1, -168.1),  # American Samoa
)

# The contiguous states as (latitude, longitude) corners, clockwise from the Pacific coast
# at the Strait of Juan de Fuca: the 49th parallel, the Great Lakes, the St Lawrence, Maine,
# the Atlantic and Gulf coasts (a little offshore), the Rio Grande and the Mexican border.
# Close to the border it is rough; the time zone settles those cases (`units_at`).
CONTIGUOUS = (
    (48.4, -124.9),
    (48.2, -123.3),
    (48.8, -123.0),
    (49.0, -123.0),
    (49.0, -95.2),
    (49.4, -95.1),
    (48.7, -94.6),
    (48.6, -93.4),
    (48.1, -90.0),
    (48.0, -89.5),
    (47.4, -87.5),
    (46.5, -84.4),
    (45.8, -83.2),
    (43.0, -82.4),
    (42.35, -82.9),
    (42.0, -83.1),
    (41.7, -82.6),
    (42.6, -79.4),
    (43.3, -79.0),
    (43.6, -77.0),
    (44.1, -76.4),
    (44.7, -75.5),
    (45.0, -74.95),
    (45.0, -71.5),
    (45.3, -71.1),
    (46.4, -70.0),
    (47.5, -69.2),
    (47.4, -68.3),
    (47.1, -67.8),
    (45.6, -67.8),
    (44.8, -66.9),
    (41.0, -69.8),
    (35.2, -75.3),
    (31.0, -80.9),
    (27.0, -79.9),
    (25.2, -80.1),
    (24.4, -81.5),
    (24.4, -83.0),
    (29.0, -83.2),
    (29.9, -85.5),
    (29.0, -89.2),
    (28.8, -95.0),
    (25.95, -97.1),
    (25.8, -97.45),
    (26.1, -98.2),
    (26.4, -99.1),
    (27.5, -99.6),
    (29.8, -101.4),
    (29.0, -103.2),
    (29.8, -104.6),
    (31.7, -106.3),
    (31.74, -106.45),
    (31.78, -106.55),
    (31.8, -108.2),
    (31.3, -108.2),
    (31.3, -111.1),
    (32.5, -114.8),
    (32.7, -114.7),
    (32.55, -117.1),
    (32.55, -117.4),
    (34.4, -120.7),
    (40.4, -124.5),
    (43.0, -124.7),
)

# IANA zones of the US and its territories (and the old names that still point at them).
US_ZONE_PREFIXES = ("US/", "America/Indiana/", "America/Kentucky/", "America/North_Dakota/")
US_ZONES = frozenset(
    {
        "America/New_York", "America/Detroit", "America/Chicago", "America/Menominee",
        "America/Denver", "America/Boise", "America/Phoenix", "America/Los_Angeles",
        "America/Anchorage", "America/Juneau", "America/Sitka", "America/Metlakatla",
        "America/Yakutat", "America/Nome", "America/Adak", "America/Puerto_Rico",
        "America/St_Thomas", "America/Virgin", "America/Fort_Wayne", "America/Indianapolis",
        "America/Louisville", "America/Knox_IN", "America/Shiprock", "America/Atka", "Navajo",
        "Pacific/Honolulu", "Pacific/Johnston", "Pacific/Guam", "Pacific/Saipan",
        "Pacific/Pago_Pago", "Pacific/Samoa", "Pacific/Midway", "Pacific/Wake",
    }
)  # fmt: skip
# Zones of the countries that share the US boxes' edges: Canada, Mexico, the Caribbean.
NEIGHBOUR_ZONE_PREFIXES = ("America/", "Canada/", "Mexico/")


def is_us_zone(zone: str) -> bool:
    return zone in US_ZONES or zone.startswith(US_ZONE_PREFIXES)


def _inside(lat: float, lon: float, corners: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting: does a ray east from the point cross the outline an odd number of times?"""
    inside = False
    for (lat1, lon1), (lat2, lon2) in zip(corners, corners[1:] + corners[:1], strict=True):
        if (lat1 > lat) != (lat2 > lat):
            crossing = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < crossing:
                inside = not inside
    return inside


def in_united_states(lat: float, lon: float) -> bool:
    """Roughly: the contiguous states, Alaska, Hawaii and the inhabited territories."""
    if any(s <= lat <= n and w <= lon <= e for s, n, w, e in US_BOXES):
        return True
    return _inside(lat, lon, CONTIGUOUS)


def units_at(lat: float | None, lon: float | None, zone: str) -> Units:
    """What a place expects. The coordinates decide (without them: metric; such a camera has
    no forecast, so no temperature or alert to show); near a border, where the outline is only
    rough, a Canadian, Mexican or Caribbean time zone keeps the camera metric."""
    if lat is None or lon is None or not in_united_states(lat, lon):
        return Units.METRIC
    neighbour = zone.startswith(NEIGHBOUR_ZONE_PREFIXES) and not is_us_zone(zone)
    return Units.METRIC if neighbour else Units.US


def units_for(camera: Camera) -> Units:
    """The camera's choice, else the site's (UNITS), else the place's."""
    if camera.units and camera.units != Units.AUTO:
        return Units(camera.units)
    if settings.UNITS != Units.AUTO:
        return Units(settings.UNITS)
    return units_at(camera.latitude, camera.longitude, camera.time_zone)


def fahrenheit(celsius: float) -> float:
    return celsius * 9 / 5 + 32


def inches(cm: float) -> float:
    return cm / 2.54


def temperature_in(celsius: float, units: Units | str) -> float:
    return fahrenheit(celsius) if units == Units.US else celsius


def degree_sign(units: Units | str) -> str:
    return "°F" if units == Units.US else "°C"


def freezing_point(units: Units | str) -> float:
    return temperature_in(0.0, units)


def temperature_text(celsius: float | None, units: Units | str) -> str:
    """One decimal and a real minus sign ("−2.5 °C", "27.5 °F"), as the viewer and the
    published pages show it (static/imgserv/viewer.js writes the same); "" when unknown."""
    if celsius is None:
        return ""
    text = f"{temperature_in(celsius, units):.1f}"
    text = "0.0" if text == "-0.0" else text.replace("-", "−")
    return f"{text} {degree_sign(units)}"


def depth_in(cm: float, units: Units | str) -> float:
    return inches(cm) if units == Units.US else cm


def depth_unit(units: Units | str) -> str:
    return "in" if units == Units.US else "cm"
