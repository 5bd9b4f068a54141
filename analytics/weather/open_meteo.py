"""Open-Meteo (`/v1/forecast`), for places outside the NWS area.

We ask for UTC and metric units, but read the response's own `timezone` and units,
so a response in local time or in °F and inches (as some clients ask for) still comes out
right. Without a `snowfall` series, snow is estimated from precipitation in snow-coded hours
at Open-Meteo's own ratio of 0.7 cm of snow per mm of water; freezing drizzle and rain codes
(56, 57, 66, 67) count their precipitation as ice accumulation.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import zoneinfo
from typing import Any

from django.conf import settings

from analytics import http
from analytics.weather.base import (
    FREEZING_CODES,
    SNOW_CODES,
    Forecast,
    Hour,
    Provider,
    ProviderError,
    fahrenheit_to_celsius,
)

SNOW_CM_PER_MM = 0.7
HOURLY = "temperature_2m,snowfall,precipitation,precipitation_probability,weather_code"


class OpenMeteoProvider(Provider):
    name = "open-meteo"

    def __init__(self, base_url: str | None = None) -> None:
        default = getattr(settings, "OPEN_METEO_API_URL", "https://api.open-meteo.com")
        self.base_url = (base_url or default).rstrip("/")

    def hourly(self, lat: float, lon: float) -> list[Hour]:
        return parse_hourly(self._get(lat, lon))

    def current_temperature(self, lat: float, lon: float) -> float | None:
        return parse_current(self._get(lat, lon))

    def forecast(self, lat: float, lon: float) -> Forecast:
        # One response holds both; asking twice would double the load on a free service.
        data = self._get(lat, lon)
        return Forecast(self.name, parse_hourly(data), parse_current(data))

    def _get(self, lat: float, lon: float) -> dict[str, Any]:
        query = urllib.parse.urlencode(
            {
                "latitude": f"{lat:.4f}",
                "longitude": f"{lon:.4f}",
                "hourly": HOURLY,
                "current": "temperature_2m",
                "timezone": "UTC",
                "forecast_days": 2,
            }
        )
        try:
            data: dict[str, Any] = http.get_json(f"{self.base_url}/v1/forecast?{query}")
        except http.HttpError as exc:
            raise ProviderError(str(exc)) from None
        if "hourly" not in data:
            raise ProviderError(
                f"Open-Meteo answered without hourly data: {data.get('reason', '')}"
            )
        return data


def parse_hourly(data: dict[str, Any]) -> list[Hour]:
    hourly, units = data["hourly"], data.get("hourly_units", {})
    zone = _zone(data)
    hours = []
    for i, text in enumerate(hourly.get("time", [])):
        value = _values_at(hourly, i)
        precip = _millimetres(value.get("precipitation"), units.get("precipitation"))
        code = None if value.get("weather_code") is None else int(value["weather_code"])
        snowfall = _snowfall_cm(value.get("snowfall"), units.get("snowfall"), precip, code)
        hours.append(
            Hour(
                time=dt.datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(dt.UTC),
                temperature_c=_celsius(value.get("temperature_2m"), units.get("temperature_2m")),
                snowfall_cm=round(snowfall, 3),
                ice_mm=round(precip if code in FREEZING_CODES else 0.0, 3),
                precipitation_mm=round(precip, 3),
                precip_probability=value.get("precipitation_probability"),
                weather_code=code,
            )
        )
    return hours


def parse_current(data: dict[str, Any]) -> float | None:
    current = data.get("current") or {}
    return _celsius(
        current.get("temperature_2m"), data.get("current_units", {}).get("temperature_2m")
    )


def _zone(data: dict[str, Any]) -> dt.tzinfo:
    """The zone the times are in: by name, since one UTC offset is wrong across a DST change."""
    try:
        return zoneinfo.ZoneInfo(str(data.get("timezone") or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.timezone(dt.timedelta(seconds=int(data.get("utc_offset_seconds", 0))))


def _values_at(hourly: dict[str, list[Any]], i: int) -> dict[str, Any]:
    return {key: series[i] for key, series in hourly.items() if i < len(series)}


def _celsius(value: float | None, unit: str | None) -> float | None:
    if value is None:
        return None
    return round(fahrenheit_to_celsius(value), 1) if unit and "F" in unit else float(value)


def _millimetres(value: float | None, unit: str | None) -> float:
    if value is None:
        return 0.0
    return float(value) * 25.4 if unit and unit.startswith("inch") else float(value)


def _snowfall_cm(
    value: float | None, unit: str | None, precip_mm: float, code: int | None
) -> float:
    if value is not None:
        return float(value) * 2.54 if unit and unit.startswith("inch") else float(value)
    return precip_mm * SNOW_CM_PER_MM if code in SNOW_CODES else 0.0
