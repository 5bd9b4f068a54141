"""US National Weather Service (api.weather.gov).

`/points/{lat},{lon}` names the forecast office grid; from it we read `forecastHourly` (hourly
temperature, chance of precipitation, wording) and `forecastGridData`, the raw layers, which
alone carry `snowfallAmount` and `iceAccumulation`. Raw values hold for an ISO 8601 interval
(`2019-04-04T06:00:00+00:00/PT3H`): amounts are shared out evenly over its hours, states such
as temperature apply to each hour. Current temperature is the latest observation of the
nearest station; an observed 0 °C is a reading, only a null value is missing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from django.conf import settings

from analytics import http
from analytics.weather.base import Hour, Provider, ProviderError, coordinate, fahrenheit_to_celsius

DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
HOUR = dt.timedelta(hours=1)
AMOUNT_LAYERS = {
    "snowfallAmount": "snowfall",
    "iceAccumulation": "ice",
    "quantitativePrecipitation": "precip",
}
STATE_LAYERS = {"temperature": "temperature", "probabilityOfPrecipitation": "probability"}


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
        stations = _get(self._point(lat, lon)["observationStations"])
        ids = stations.get("observationStations") or [f["id"] for f in stations.get("features", [])]
        if not ids:
            return None
        observation = _get(f"{ids[0].rstrip('/')}/observations/latest")
        return observed_temperature(observation.get("properties", {}).get("temperature") or {})

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


def observed_temperature(value: dict[str, Any]) -> float | None:
    reading = value.get("value")
    if reading is None:
        return None
    if str(value.get("unitCode", "")).endswith("degF"):
        return round(fahrenheit_to_celsius(float(reading)), 1)
    return float(reading)


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
        if name == "temperature" and str(layer.get("uom", "")).endswith("degF"):
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
    temperature = f.get("temperature")
    return Hour(
        time=time,
        temperature_c=round(temperature, 1) if temperature is not None else None,
        snowfall_cm=round(f.get("snowfall", 0.0) / 10.0, 3),
        ice_mm=round(f.get("ice", 0.0), 3),
        precipitation_mm=round(f.get("precip", 0.0), 3),
        precip_probability=f.get("probability"),
        description=f.get("description", ""),
    )
