"""US National Weather Service (api.weather.gov).

`/points/{lat},{lon}` names the forecast office grid; from it we read `forecastHourly` (hourly
temperature, chance of precipitation, wording) and `forecastGridData`, the raw layers, which
alone carry `snowfallAmount` and `iceAccumulation`. Raw values hold for an ISO 8601 interval
(`2019-04-04T06:00:00+00:00/PT3H`): amounts are shared out evenly over its hours, states such
as temperature apply to each hour. Current temperature is the latest observation of the
nearest station; an observed 0 °C is a reading, only a null value is missing.

The history is that station's observations of the last 72 hours, one hour per UTC hour (see
`observed_hours`). Only the raw grid has quantitative snowfall, and only for the future: past
snowfall is what the observations say, which is whether it snowed and how much water fell.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings

from analytics import http
from analytics.weather.base import (
    Hour,
    PastHour,
    Provider,
    ProviderError,
    coordinate,
    fahrenheit_to_celsius,
    number,
)

logger = logging.getLogger(__name__)

DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
HOUR = dt.timedelta(hours=1)
AMOUNT_LAYERS = {
    "snowfallAmount": "snowfall",
    "iceAccumulation": "ice",
    "quantitativePrecipitation": "precip",
}
STATE_LAYERS = {
    "temperature": "temperature",
    "dewpoint": "dew_point",
    "probabilityOfPrecipitation": "probability",
}
HISTORY = dt.timedelta(hours=72)
# Observed lengths (precipitation, snow depth) in millimetres per unit of `unitCode`.
MM_PER_UNIT = {"m": 1000.0, "cm": 10.0, "mm": 1.0, "in": 25.4, "[in_i]": 25.4}
# Snow from precipitation at 10:1: one mm of water is about one cm of snow.
SNOW_CM_PER_MM = 1.0
SNOW_WEATHER = frozenset({"snow", "snow_grains", "snow_pellets"})
FREEZING_WORDS = ("freezing rain", "freezing drizzle", "sleet", "ice pellets")


class NWSProvider(Provider):
    name = "nws"

    def __init__(self, base_url: str | None = None) -> None:
        default = getattr(settings, "NWS_API_URL", "https://api.weather.gov")
        self.base_url = (base_url or default).rstrip("/")

    def hourly(self, lat: float, lon: float) -> list[Hour]:
        point = self._point(lat, lon)
        layers = grid_layers(_get(point["forecastGridData"]))
        periods: list[dict[str, Any]] = []
        try:
            periods = _get(point["forecastHourly"])["properties"]["periods"]
        except (ProviderError, KeyError, TypeError):
            # The grid alone still gives temperature, snow and ice, hour by hour.
            periods = []
        return merge(layers, periods)

    def current_temperature(self, lat: float, lon: float) -> float | None:
        station = self._station(lat, lon)
        if station is None:
            return None
        observation = _get(f"{station}/observations/latest")
        return observed_temperature(observation.get("properties", {}).get("temperature") or {})

    def past_hours(self, lat: float, lon: float, now: dt.datetime) -> list[PastHour]:
        station = self._station(lat, lon)
        if station is None:
            return []
        start = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) - HISTORY
        query = urllib.parse.urlencode({"start": start.isoformat()})
        features = _get(f"{station}/observations?{query}").get("features")
        if not isinstance(features, list):
            raise ProviderError("the station's observations came without features")
        return observed_hours(features, start, now)

    def _station(self, lat: float, lon: float) -> str | None:
        """The nearest observation station's URL (the list comes nearest first)."""
        stations = _get(self._point(lat, lon)["observationStations"])
        ids = stations.get("observationStations") or [f["id"] for f in stations.get("features", [])]
        return str(ids[0]).rstrip("/") if ids else None

    def _point(self, lat: float, lon: float) -> dict[str, Any]:
        url = f"{self.base_url}/points/{coordinate(lat)},{coordinate(lon)}"
        try:
            properties: dict[str, Any] = _get(url)["properties"]
        except KeyError:
            raise ProviderError(f"{url} gave no forecast grid") from None
        return properties


def _get(url: str) -> Any:
    try:
        return http.get_json(url, accept="application/geo+json")
    except http.HttpError as exc:
        # 404 on /points means the place is outside the NWS area (not US territory).
        raise ProviderError(str(exc), not_covered=exc.status == 404) from None


def observed_temperature(value: Any) -> float | None:
    reading = number(value.get("value")) if isinstance(value, dict) else None
    if reading is None:
        return None
    if str(value.get("unitCode", "")).endswith("degF"):
        return round(fahrenheit_to_celsius(reading), 1)
    return reading


def observed_millimetres(value: Any) -> float | None:
    """An observed length (`wmoUnit:m`, `wmoUnit:mm`, …) in mm; None if null or unknown."""
    if not isinstance(value, dict):
        return None
    reading = number(value.get("value"))
    factor = MM_PER_UNIT.get(str(value.get("unitCode", "")).rpartition(":")[2])
    return None if reading is None or factor is None else reading * factor


def observed_hours(features: list[Any], start: dt.datetime, now: dt.datetime) -> list[PastHour]:
    """Observations in [start, now] bucketed by the UTC hour they were taken in, oldest first.
    An observation without a readable time is skipped, and the count named in a warning."""
    buckets: dict[dt.datetime, list[tuple[dt.datetime, dict[str, Any]]]] = defaultdict(list)
    unreadable = 0
    for feature in features:
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            unreadable += 1
            continue
        try:
            taken = dt.datetime.fromisoformat(properties["timestamp"]).astimezone(dt.UTC)
        except (KeyError, TypeError, ValueError):
            unreadable += 1
            continue
        if start <= taken <= now:
            buckets[taken.replace(minute=0, second=0, microsecond=0)].append((taken, properties))
    if unreadable:
        logger.warning("NWS: skipped %d observations without a readable time", unreadable)
    hours = []
    for time in sorted(buckets):
        in_order = sorted(buckets[time], key=lambda pair: pair[0])
        hours.append(_observed_hour(time, [properties for _, properties in in_order]))
    return hours


def _observed_hour(time: dt.datetime, observations: list[dict[str, Any]]) -> PastHour:
    """One hour from its observations (oldest first): states from the newest that has them.

    `precipitationLastHour` is often null: METAR leaves out the precipitation group when
    nothing fell. So with no amount, an hour whose observations all list their present weather
    and none of it falling counts as 0 mm; otherwise the amount is not known. Snowfall is not
    observed: it is the water of a snowy hour at 10:1 (1 mm → 1 cm), 0 when no observation
    reports snow, and unknown when it snowed but the amount is missing.
    """
    latest = observations[::-1]

    def newest(read: Callable[[Any], float | None], key: str) -> float | None:
        return next((v for p in latest if (v := read(p.get(key))) is not None), None)

    amounts = (observed_millimetres(p.get("precipitationLastHour")) for p in observations)
    known = [a for a in amounts if a is not None]
    reported = all(isinstance(p.get("presentWeather"), list) for p in observations)
    snowing = any(_snowing(p) for p in observations)
    falling = snowing or any(_falling(p) for p in observations)
    # A special observation repeats part of the routine one's hour: the largest amount, not a sum.
    precipitation = max(known) if known else (0.0 if reported and not falling else None)
    if not snowing:
        snowfall = 0.0 if reported else None
    else:
        snowfall = None if precipitation is None else precipitation * SNOW_CM_PER_MM
    depth = newest(observed_millimetres, "snowDepth")
    text = next((str(p["textDescription"]) for p in latest if p.get("textDescription")), "")
    return PastHour(
        time=time,
        temperature_c=newest(observed_temperature, "temperature"),
        dew_point_c=newest(observed_temperature, "dewpoint"),
        precipitation_mm=None if precipitation is None else round(precipitation, 3),
        snowfall_cm=None if snowfall is None else round(snowfall, 3),
        snow_depth_cm=None if depth is None else round(depth / 10.0, 1),
        freezing_precipitation=any(_freezing(p) for p in observations),
        description=text[:100],
    )


def _present_weather(properties: dict[str, Any]) -> list[dict[str, Any]]:
    items = properties.get("presentWeather")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _falling(properties: dict[str, Any]) -> bool:
    """Anything reported falling (rain, drizzle, hail, …), rather than fog, haze or mist."""
    quiet = {"fog", "fog_mist", "haze", "smoke", "dust", "sand", "spray", "volcanic_ash"}
    return any(i.get("weather") not in quiet for i in _present_weather(properties))


def _snowing(properties: dict[str, Any]) -> bool:
    """Snow falling at the station; blowing or drifting snow is old snow moved by the wind."""
    text = str(properties.get("textDescription") or "").lower()
    if "snow" in text and "blowing" not in text and "drifting" not in text:
        return True
    return any(
        i.get("weather") in SNOW_WEATHER
        and i.get("modifier") not in ("blowing", "low_drifting")
        and not i.get("inVicinity")
        for i in _present_weather(properties)
    )


def _freezing(properties: dict[str, Any]) -> bool:
    """Freezing rain or drizzle, or ice pellets; freezing fog is fog, not precipitation."""
    text = str(properties.get("textDescription") or "").lower()
    if any(word in text for word in FREEZING_WORDS):
        return True
    return any(
        (i.get("modifier") == "freezing" and i.get("weather") in ("rain", "drizzle"))
        or i.get("weather") == "ice_pellets"
        for i in _present_weather(properties)
    )


def parse_interval(valid_time: str) -> tuple[dt.datetime, int]:
    """`2019-04-04T06:00:00+00:00/PT3H` → (start in UTC, number of hours, at least 1)."""
    start_text, _, duration = valid_time.partition("/")
    start = dt.datetime.fromisoformat(start_text).astimezone(dt.UTC)
    match = DURATION.match(duration)
    if not match:
        raise ValueError(f"unknown ISO 8601 duration {duration!r}")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    return start, max(1, days * 24 + hours + (1 if minutes else 0))


def spread(values: list[dict[str, Any]], amount: bool) -> dict[dt.datetime, float]:
    """Per-hour values of one raw layer: amounts divided over their interval, states copied."""
    hourly: dict[dt.datetime, float] = {}
    for item in values:
        if item.get("value") is None:
            continue
        start, count = parse_interval(item["validTime"])
        each = float(item["value"]) / count if amount else float(item["value"])
        for i in range(count):
            hourly[start + i * HOUR] = each
    return hourly


def grid_layers(grid: dict[str, Any]) -> dict[str, dict[dt.datetime, float]]:
    properties = grid.get("properties", {})
    layers: dict[str, dict[dt.datetime, float]] = {}
    for name, key in {**AMOUNT_LAYERS, **STATE_LAYERS}.items():
        layer = properties.get(name) or {}
        values = spread(layer.get("values", []), amount=name in AMOUNT_LAYERS)
        if name in ("temperature", "dewpoint") and str(layer.get("uom", "")).endswith("degF"):
            values = {t: fahrenheit_to_celsius(v) for t, v in values.items()}
        layers[key] = values
    return layers


def merge(layers: dict[str, dict[dt.datetime, float]], periods: list[dict[str, Any]]) -> list[Hour]:
    """Hours from the grid, with the hourly forecast's temperature and wording where it has them."""
    fields: dict[dt.datetime, dict[str, Any]] = defaultdict(dict)
    for key, values in layers.items():
        for time, value in values.items():
            fields[time][key] = value
    for period in periods:
        time = dt.datetime.fromisoformat(period["startTime"]).astimezone(dt.UTC)
        fields[time].update(_period_fields(period))
    return [_hour(time, fields[time]) for time in sorted(fields)]


def _period_fields(period: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"description": period.get("shortForecast") or ""}
    temperature = period.get("temperature")
    if isinstance(temperature, dict):
        temperature = temperature.get("value")
    if temperature is not None:
        value = float(temperature)
        found["temperature"] = (
            fahrenheit_to_celsius(value) if period.get("temperatureUnit") == "F" else value
        )
    probability = (period.get("probabilityOfPrecipitation") or {}).get("value")
    if probability is not None:
        found["probability"] = float(probability)
    return found


def _hour(time: dt.datetime, f: dict[str, Any]) -> Hour:
    temperature, dew_point = f.get("temperature"), f.get("dew_point")
    return Hour(
        time=time,
        temperature_c=round(temperature, 1) if temperature is not None else None,
        snowfall_cm=round(f.get("snowfall", 0.0) / 10.0, 3),
        ice_mm=round(f.get("ice", 0.0), 3),
        precipitation_mm=round(f.get("precip", 0.0), 3),
        precip_probability=f.get("probability"),
        description=f.get("description", ""),
        dew_point_c=round(dew_point, 1) if dew_point is not None else None,
    )
