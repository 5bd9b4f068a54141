"""Open-Meteo (`/v1/forecast`), for places outside the NWS area.

We ask for UTC and metric units, but read the response's own `timezone` and units,
so a response in local time or in °F and inches (as some clients ask for) still comes out
right. Without a `snowfall` series, snow is estimated from precipitation in snow-coded hours
at Open-Meteo's own ratio of 0.7 cm of snow per mm of water; freezing drizzle and rain codes
(56, 57, 66, 67) count their precipitation as ice accumulation.

One request carries the past three days as well (`past_days`): the hours at or before now are
the history. Open-Meteo's amounts are sums over the hour *before* the time they are labelled
with, so an hour labelled with a time at or before now has fully happened. A value that is
missing or not a number is read as "not reported" and named in one warning; it never costs
the rest of the response.
"""

from __future__ import annotations

import datetime as dt
import logging
import urllib.parse
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from analytics import http
from analytics.weather.base import (
    FREEZING_CODES,
    SNOW_CODES,
    Forecast,
    Hour,
    PastHour,
    Provider,
    ProviderError,
    fahrenheit_to_celsius,
    number,
)

logger = logging.getLogger(__name__)

SNOW_CM_PER_MM = 0.7
PAST_DAYS = 3
SERIES = (
    "temperature_2m",
    "dew_point_2m",
    "snowfall",
    "snow_depth",
    "precipitation",
    "precipitation_probability",
    "weather_code",
)
HOURLY = ",".join(SERIES)
# The series a past hour is made of: a null in one of these, at or before now, is a gap.
HISTORY_SERIES = frozenset(SERIES) - {"precipitation_probability"}


class OpenMeteoProvider(Provider):
    name = "open-meteo"

    def __init__(self, base_url: str | None = None) -> None:
        default = getattr(settings, "OPEN_METEO_API_URL", "https://api.open-meteo.com")
        self.base_url = (base_url or default).rstrip("/")

    def hourly(self, lat: float, lon: float) -> list[Hour]:
        return parse_hourly(self._get(lat, lon))

    def current_temperature(self, lat: float, lon: float) -> float | None:
        return parse_current(self._get(lat, lon))

    def past_hours(self, lat: float, lon: float, now: dt.datetime) -> list[PastHour]:
        return [_past(row) for row in read_rows(self._get(lat, lon), now) if row.time <= now]

    def forecast(self, lat: float, lon: float, now: dt.datetime | None = None) -> Forecast:
        # One response holds all three; asking again would double the load on a free service.
        now = now or timezone.now()
        data = self._get(lat, lon)
        rows = read_rows(data, now)
        history = self.safe_history(lambda: [_past(row) for row in rows if row.time <= now])
        return Forecast(self.name, [_hour(row) for row in rows], parse_current(data), history)

    def _get(self, lat: float, lon: float) -> dict[str, Any]:
        query = urllib.parse.urlencode(
            {
                "latitude": f"{lat:.4f}",
                "longitude": f"{lon:.4f}",
                "hourly": HOURLY,
                "current": "temperature_2m",
                "timezone": "UTC",
                "past_days": PAST_DAYS,
                "forecast_days": 2,
            }
        )
        try:
            data: dict[str, Any] = http.get_json(f"{self.base_url}/v1/forecast?{query}")
        except http.HttpError as exc:
            raise ProviderError(str(exc)) from None
        if not isinstance(data, dict) or not isinstance(data.get("hourly"), dict):
            reason = data.get("reason", "") if isinstance(data, dict) else ""
            raise ProviderError(f"Open-Meteo answered without hourly data: {reason}")
        return data


@dataclass(frozen=True)
class Row:
    """One hour of the response in UTC and metric units; None where nothing was readable."""

    time: dt.datetime
    temperature_c: float | None
    dew_point_c: float | None
    precipitation_mm: float | None
    snowfall_cm: float | None
    snow_depth_cm: float | None
    probability: float | None
    code: int | None

    def snowfall_or_estimate(self) -> float | None:
        """The reported snowfall, else an estimate from the weather code and precipitation."""
        if self.snowfall_cm is not None:
            return self.snowfall_cm
        if self.code is None or self.precipitation_mm is None:
            return None
        return self.precipitation_mm * SNOW_CM_PER_MM if self.code in SNOW_CODES else 0.0


def parse_hourly(data: dict[str, Any]) -> list[Hour]:
    return [_hour(row) for row in read_rows(data)]


def read_rows(data: dict[str, Any], now: dt.datetime | None = None) -> list[Row]:
    """Every hour of the response; what is missing or unreadable is None, and is named in
    one warning (nulls only for the past hours, where they leave a gap in the history)."""
    hourly = data["hourly"]
    units = data.get("hourly_units")
    units = units if isinstance(units, dict) else {}
    times = hourly.get("time")
    if not isinstance(times, list):
        logger.warning("Open-Meteo answered hourly data without times")
        return []
    problems: list[str] = []
    series: dict[str, list[Any]] = {}
    for name in SERIES:
        column = hourly.get(name)
        if not isinstance(column, list):
            problems.append(f"{name} {'missing' if column is None else 'not a list'}")
            continue
        if len(column) != len(times):
            problems.append(f"{name} has {len(column)} values for {len(times)} hours")
        series[name] = column
    zone = _zone(data)
    unreadable: Counter[str] = Counter()
    gaps: Counter[str] = Counter()
    rows = []
    for i, text in enumerate(times):
        time = _time(text, zone)
        if time is None:
            unreadable["time"] += 1
            continue
        values: dict[str, float | None] = {}
        for name, column in series.items():
            raw = column[i] if i < len(column) else None
            values[name] = number(raw)
            if raw is not None and values[name] is None:
                unreadable[name] += 1
            elif raw is None and now is not None and time <= now and name in HISTORY_SERIES:
                gaps[name] += 1
        rows.append(_row(time, values, units))
    problems += [f"{count} unreadable {name}" for name, count in unreadable.items()]
    problems += [f"{count} past hours without {name}" for name, count in gaps.items()]
    if problems:
        logger.warning("Open-Meteo hourly data incomplete: %s", "; ".join(problems))
    return rows


def _row(time: dt.datetime, v: dict[str, float | None], units: dict[str, Any]) -> Row:
    code = v.get("weather_code")
    precip = _millimetres(v.get("precipitation"), units.get("precipitation"))
    return Row(
        time=time,
        temperature_c=_celsius(v.get("temperature_2m"), units.get("temperature_2m")),
        dew_point_c=_celsius(v.get("dew_point_2m"), units.get("dew_point_2m")),
        precipitation_mm=precip,
        snowfall_cm=_centimetres(v.get("snowfall"), units.get("snowfall"), "cm"),
        snow_depth_cm=_centimetres(v.get("snow_depth"), units.get("snow_depth"), "m"),
        probability=v.get("precipitation_probability"),
        code=int(code) if code is not None and code.is_integer() else None,
    )


def _hour(row: Row) -> Hour:
    precip = row.precipitation_mm or 0.0
    return Hour(
        time=row.time,
        temperature_c=row.temperature_c,
        snowfall_cm=round(row.snowfall_or_estimate() or 0.0, 3),
        ice_mm=round(precip if row.code in FREEZING_CODES else 0.0, 3),
        precipitation_mm=round(precip, 3),
        precip_probability=row.probability,
        weather_code=row.code,
        dew_point_c=row.dew_point_c,
        snow_depth_cm=row.snow_depth_cm,
    )


def _past(row: Row) -> PastHour:
    snowfall = row.snowfall_or_estimate()
    return PastHour(
        time=row.time,
        temperature_c=row.temperature_c,
        dew_point_c=row.dew_point_c,
        precipitation_mm=None if row.precipitation_mm is None else round(row.precipitation_mm, 3),
        snowfall_cm=None if snowfall is None else round(snowfall, 3),
        snow_depth_cm=row.snow_depth_cm,
        weather_code=row.code,
        freezing_precipitation=row.code in FREEZING_CODES,
    )


def parse_current(data: dict[str, Any]) -> float | None:
    current = data.get("current")
    units = data.get("current_units")
    if not isinstance(current, dict):
        return None
    unit = units.get("temperature_2m") if isinstance(units, dict) else None
    return _celsius(number(current.get("temperature_2m")), unit)


def _zone(data: dict[str, Any]) -> dt.tzinfo:
    """The zone the times are in: by name, since one UTC offset is wrong across a DST change."""
    try:
        return zoneinfo.ZoneInfo(str(data.get("timezone") or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        offset = number(data.get("utc_offset_seconds")) or 0.0
        return dt.timezone(dt.timedelta(seconds=int(offset)))


def _time(text: Any, zone: dt.tzinfo) -> dt.datetime | None:
    try:
        local = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


def _celsius(value: float | None, unit: Any) -> float | None:
    if value is None:
        return None
    return round(fahrenheit_to_celsius(value), 1) if unit and "F" in str(unit) else value


def _millimetres(value: float | None, unit: Any) -> float | None:
    if value is None:
        return None
    return value * 25.4 if str(unit or "").startswith("inch") else value


def _centimetres(value: float | None, unit: Any, default: str) -> float | None:
    """Snowfall (cm, or inch when imperial) and snow depth (m, or ft when imperial) in cm."""
    if value is None:
        return None
    factor = {"cm": 1.0, "m": 100.0, "mm": 0.1, "inch": 2.54, "ft": 30.48}
    return round(value * factor.get(str(unit or default), factor[default]), 3)
