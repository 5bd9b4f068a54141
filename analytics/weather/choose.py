"""Which provider serves a place: the NWS inside the US, Open-Meteo elsewhere."""

from __future__ import annotations

import datetime as dt

from analytics.weather.base import Forecast, Provider, ProviderError
from analytics.weather.nws import NWSProvider
from analytics.weather.open_meteo import OpenMeteoProvider


def in_nws_area(lat: float, lon: float) -> bool:
    """Roughly the US with Alaska, Hawaii and Puerto Rico; the NWS answers 404 outside it."""
    return 18.0 <= lat <= 72.0 and -180.0 <= lon <= -64.0


def provider_for(lat: float, lon: float) -> Provider:
    return NWSProvider() if in_nws_area(lat, lon) else OpenMeteoProvider()


def fetch_forecast(lat: float, lon: float, now: dt.datetime | None = None) -> Forecast:
    """Forecast (and the hours up to `now`) for a place; Canada and Mexico share the NWS box,
    so a 404 falls back."""
    provider = provider_for(lat, lon)
    try:
        return provider.forecast(lat, lon, now)
    except ProviderError as exc:
        if isinstance(provider, NWSProvider) and exc.not_covered:
            return OpenMeteoProvider().forecast(lat, lon, now)
        raise
