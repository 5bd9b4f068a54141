"""Weather providers behind one interface (`base.Provider`), and the choice between them."""

from __future__ import annotations

from analytics.weather.base import Forecast, Hour, Provider, ProviderError
from analytics.weather.choose import fetch_forecast, provider_for

__all__ = ["Forecast", "Hour", "Provider", "ProviderError", "fetch_forecast", "provider_for"]
