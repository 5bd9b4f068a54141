"""What every weather provider delivers: hours in UTC, in metric units."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any

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
        values = dict(data)
        values["time"] = dt.datetime.fromisoformat(values["time"])
        return cls(**values)


@dataclass(frozen=True)
class Forecast:
    provider: str
    hours: list[Hour] = field(default_factory=list)
    current_temperature_c: float | None = None


class Provider(ABC):
    name: str

    @abstractmethod
    def hourly(self, lat: float, lon: float) -> list[Hour]:
        """Hourly forecast, in time order, as far ahead as the provider gives it."""

    @abstractmethod
    def current_temperature(self, lat: float, lon: float) -> float | None:
        """The latest observed (or, failing that, modelled) air temperature."""

    def forecast(self, lat: float, lon: float) -> Forecast:
        hours = self.hourly(lat, lon)
        try:
            current = self.current_temperature(lat, lon)
        except ProviderError:
            # A missing observation should not throw away a good forecast.
            current = None
        return Forecast(self.name, hours, current)


def fahrenheit_to_celsius(value: float) -> float:
    return (value - 32.0) * 5.0 / 9.0


def coordinate(value: float) -> str:
    """Four decimals without trailing zeros, as api.weather.gov wants (it redirects others)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")
