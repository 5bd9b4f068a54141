"""What every weather provider delivers: hours in UTC, in metric units.

A forecast carries the hours ahead (`Hour`, amounts default to 0 as alerts want them) and the
hours behind (`PastHour`, where None means "not reported": a sum over missing hours is not 0).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from django.utils import timezone

logger = logging.getLogger(__name__)

# WMO weather codes (used by Open-Meteo) for freezing drizzle and freezing rain.
FREEZING_CODES = frozenset({56, 57, 66, 67})
# WMO codes for snow fall, snow grains and snow showers.
SNOW_CODES = frozenset({71, 73, 75, 77, 85, 86})


class ProviderError(Exception):
    """The provider could not give a forecast; `not_covered` when the place is outside it."""

    def __init__(self, message: str, not_covered: bool = False) -> None:
        super().__init__(message)
        self.not_covered = not_covered


@dataclass(frozen=True)
class Hour:
    time: dt.datetime
    temperature_c: float | None = None
    snowfall_cm: float = 0.0
    ice_mm: float = 0.0
    precipitation_mm: float = 0.0
    precip_probability: float | None = None
    weather_code: int | None = None
    description: str = ""
    dew_point_c: float | None = None
    snow_depth_cm: float | None = None

    @property
    def freezing_precipitation(self) -> bool:
        text = self.description.lower()
        return self.weather_code in FREEZING_CODES or "freezing" in text or "sleet" in text

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.astimezone(dt.UTC).isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Hour:
        # Stored JSON may be older (no dew point, no snow depth) or newer than this class.
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["time"] = dt.datetime.fromisoformat(values["time"])
        return cls(**values)


@dataclass(frozen=True)
class PastHour:
    """One hour that has passed (`time` in UTC, on the hour), as the provider reports it."""

    time: dt.datetime
    temperature_c: float | None = None
    dew_point_c: float | None = None
    precipitation_mm: float | None = None
    snowfall_cm: float | None = None
    snow_depth_cm: float | None = None
    weather_code: int | None = None
    freezing_precipitation: bool = False
    description: str = ""


@dataclass(frozen=True)
class Forecast:
    provider: str
    hours: list[Hour] = field(default_factory=list)
    current_temperature_c: float | None = None
    # The hours up to the fetch, oldest first; empty when the provider gave none we could read.
    history: list[PastHour] = field(default_factory=list)


class Provider(ABC):
    name: str

    @abstractmethod
    def hourly(self, lat: float, lon: float) -> list[Hour]:
        """Hourly forecast, in time order, as far ahead as the provider gives it."""

    @abstractmethod
    def current_temperature(self, lat: float, lon: float) -> float | None:
        """The latest observed (or, failing that, modelled) air temperature."""

    def past_hours(self, lat: float, lon: float, now: dt.datetime) -> list[PastHour]:
        """The hours up to `now`, as far back as the provider keeps them (up to 72 h)."""
        return []

    def forecast(self, lat: float, lon: float, now: dt.datetime | None = None) -> Forecast:
        hours = self.hourly(lat, lon)
        try:
            current = self.current_temperature(lat, lon)
        except ProviderError:
            # A missing observation should not throw away a good forecast.
            current = None
        history = self.safe_history(lambda: self.past_hours(lat, lon, now or timezone.now()))
        return Forecast(self.name, hours, current, history)

    def safe_history(self, read: Callable[[], list[PastHour]]) -> list[PastHour]:
        """The history `read` gives, or none: a broken history never costs the forecast."""
        try:
            return read()
        except ProviderError as exc:
            logger.warning("%s gave no weather history: %s", self.name, exc)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            logger.warning("%s gave an unreadable weather history (%r); skipped", self.name, exc)
        return []


def fahrenheit_to_celsius(value: float) -> float:
    return (value - 32.0) * 5.0 / 9.0


def coordinate(value: float) -> str:
    """Four decimals without trailing zeros, as api.weather.gov wants (it redirects others)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def number(value: Any) -> float | None:
    """A JSON number as a float; anything else (null, text, true, NaN) is None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)
