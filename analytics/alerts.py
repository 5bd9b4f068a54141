"""Snow and ice alerts for the next 24 hours, and the stored forecast they come from.

Alerts are computed when read, from the last good forecast, in the camera's time zone, so
they move on with the clock and follow a changed time zone at once. Texts name the weekday
and time ("Snow 2–4 cm from Tue 03:00"); within a 24-hour window the weekday fixes the date,
and the API also gives ISO times. Amounts are worded in the camera's units ("Snow 1–2 in from
Tue 03:00" where it uses US units: cameras.units); `snowfall_cm` stays metric.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from analytics.models import ForecastSnapshot
from analytics.weather import Forecast, Hour, ProviderError, fetch_forecast, provider_for
from analytics.weather.history import store_history
from cameras.models import Camera
from cameras.units import Units, depth_in, depth_unit

HORIZON = dt.timedelta(hours=24)
HOUR = dt.timedelta(hours=1)
# Below this much snow in a day no amount is worth naming.
MIN_SNOW_CM = 0.1
# "Snow possible" from wording alone needs at least this chance of precipitation.
MIN_PROBABILITY = 40.0
KEEP_SNAPSHOTS = dt.timedelta(days=7)


class AlertKind(models.TextChoices):
    SNOW = "snow", "Snow"
    ICE = "ice", "Ice"


class ForecastStatus(models.TextChoices):
    OK = "ok", "Forecast current"
    UNAVAILABLE = "unavailable", "Forecast unavailable"
    PENDING = "pending", "Forecast not fetched yet"
    NO_LOCATION = "no_location", "No location set for this camera"


@dataclass(frozen=True)
class Alert:
    kind: str
    text: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    snowfall_cm: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "snowfall_cm": round(self.snowfall_cm, 1),
        }


@dataclass(frozen=True)
class ForecastState:
    status: str
    message: str
    provider: str = ""
    fetched_at: dt.datetime | None = None
    temperature_c: float | None = None
    alerts: list[Alert] = field(default_factory=list)
    hours: list[Hour] = field(default_factory=list)


def max_age() -> dt.timedelta:
    """How long the last good forecast keeps serving while the provider is down."""
    return dt.timedelta(hours=getattr(settings, "FORECAST_MAX_AGE_HOURS", 6))


def compute_alerts(
    hours: list[Hour], now: dt.datetime, tz: zoneinfo.ZoneInfo, units: Units = Units.METRIC
) -> list[Alert]:
    """Snow and ice alerts due in [now, now + 24 h), in the order they start."""
    start = now.replace(minute=0, second=0, microsecond=0)
    window = [h for h in hours if start <= h.time < now + HORIZON]
    found = [a for a in (_snow_alert(window, tz, units), _ice_alert(window, tz)) if a is not None]
    return sorted(found, key=lambda a: a.starts_at)


def _snow_alert(hours: list[Hour], tz: zoneinfo.ZoneInfo, units: Units) -> Alert | None:
    snowy = [h for h in hours if h.snowfall_cm > 0]
    total = sum(h.snowfall_cm for h in snowy)
    if total >= MIN_SNOW_CM:
        first, last = snowy[0].time, snowy[-1].time + HOUR
        text = f"Snow {snow_amount(total, units)} from {_when(first, tz)}"
        return Alert(AlertKind.SNOW, text, first, last, total)
    worded = [h for h in hours if "snow" in h.description.lower() and _likely(h)]
    if worded:
        first = worded[0].time
        text = f"Snow possible from {_when(first, tz)}"
        return Alert(AlertKind.SNOW, text, first, worded[-1].time + HOUR)
    return None


def snow_amount(total_cm: float, units: Units = Units.METRIC) -> str:
    """A range that admits the forecast's uncertainty (±25 %), in whole centimetres or, in US
    units, whole inches ("1–2 in"; "under 1 in" for less than 2.5 cm)."""
    total = depth_in(total_cm, units)
    unit = depth_unit(units)
    if total < 1:
        return f"under 1 {unit}"
    low = max(1, math.floor(total * 0.75))
    high = max(low + 1, math.ceil(total * 1.25))
    return f"{low}–{high} {unit}"


def _ice_alert(hours: list[Hour], tz: zoneinfo.ZoneInfo) -> Alert | None:
    icy = [h for h in hours if is_icy(h)]
    if not icy:
        return None
    # The first spell: consecutive icy hours from the first one.
    spell = [icy[0]]
    for hour in icy[1:]:
        if hour.time - spell[-1].time > HOUR:
            break
        spell.append(hour)
    first, end = spell[0].time, spell[-1].time + HOUR
    return Alert(AlertKind.ICE, f"Ice possible {_span(first, end, tz)}", first, end)


def is_icy(hour: Hour) -> bool:
    """Ice accumulation, freezing rain or drizzle, or rain falling at or below 0 °C."""
    if hour.ice_mm > 0 or (hour.freezing_precipitation and _likely(hour)):
        return True
    freezing = hour.temperature_c is not None and hour.temperature_c <= 0
    rain = hour.precipitation_mm > 0 and hour.snowfall_cm == 0
    return freezing and rain


def _likely(hour: Hour) -> bool:
    return hour.precip_probability is None or hour.precip_probability >= MIN_PROBABILITY


def _when(time: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    return f"{time.astimezone(tz):%a %H:%M}"


def _span(start: dt.datetime, end: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_end.date() == local_start.date() or local_end == _midnight_after(local_start):
        return f"{local_start:%a %H:%M}–{local_end:%H:%M}"
    return f"{local_start:%a %H:%M}–{local_end:%a %H:%M}"


def _midnight_after(local: dt.datetime) -> dt.datetime:
    return (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def refresh_forecast(camera: Camera, now: dt.datetime | None = None) -> ForecastSnapshot | None:
    """Fetch and store the camera's forecast and the past hours that came with it; a failure
    is stored too, and never raised."""
    if camera.latitude is None or camera.longitude is None:
        return None
    now = now or timezone.now()
    try:
        forecast = fetch_forecast(camera.latitude, camera.longitude, now)
    except ProviderError as exc:
        tried = provider_for(camera.latitude, camera.longitude).name
        return ForecastSnapshot.objects.create(
            camera=camera, provider=tried, fetched_at=now, error=str(exc)[:2000]
        )
    snapshot = _store(camera, forecast, now)
    store_history(camera, forecast, now)
    ForecastSnapshot.objects.filter(camera=camera, fetched_at__lt=now - KEEP_SNAPSHOTS).delete()
    return snapshot


def _store(camera: Camera, forecast: Forecast, now: dt.datetime) -> ForecastSnapshot:
    alerts = compute_alerts(forecast.hours, now, camera.tz, camera.display_units)
    # Keep a little history behind now, for the chart, and two days ahead at most.
    kept = [h for h in forecast.hours if now - HORIZON <= h.time < now + 2 * HORIZON]
    return ForecastSnapshot.objects.create(
        camera=camera,
        provider=forecast.provider,
        fetched_at=now,
        expires_at=now + max_age(),
        current_temperature_c=forecast.current_temperature_c,
        hourly=[h.to_json() for h in kept],
        alerts=[a.to_json() for a in alerts],
    )


def forecast_state(camera: Camera, now: dt.datetime | None = None) -> ForecastState:
    """What to show: the alerts of the last good forecast while it is not too old."""
    now = now or timezone.now()
    if camera.latitude is None or camera.longitude is None:
        return ForecastState(ForecastStatus.NO_LOCATION, ForecastStatus.NO_LOCATION.label)
    latest = ForecastSnapshot.objects.filter(camera=camera).first()
    if latest is None:
        return ForecastState(ForecastStatus.PENDING, ForecastStatus.PENDING.label)
    good = (
        ForecastSnapshot.objects.filter(camera=camera, error="", fetched_at__gte=now - max_age())
        .order_by("-fetched_at")
        .first()
    )
    status = ForecastStatus.OK if good is not None and good.pk == latest.pk else None
    message = "" if status else _unavailable_message(latest, good, camera)
    if good is None:
        return ForecastState(ForecastStatus.UNAVAILABLE, message)
    hours = [Hour.from_json(h) for h in good.hourly]
    return ForecastState(
        status=status or ForecastStatus.UNAVAILABLE,
        message=message,
        provider=good.provider,
        fetched_at=good.fetched_at,
        temperature_c=_temperature(good, hours, now),
        alerts=compute_alerts(hours, now, camera.tz, camera.display_units),
        hours=[h for h in hours if now - HOUR < h.time < now + HORIZON],
    )


def _unavailable_message(
    latest: ForecastSnapshot, good: ForecastSnapshot | None, camera: Camera
) -> str:
    text = f"Forecast unavailable: {latest.error or 'the last forecast is too old'}"
    if good is not None:
        text += f"; showing the forecast of {good.fetched_at.astimezone(camera.tz):%a %H:%M}"
    return text


def _temperature(good: ForecastSnapshot, hours: list[Hour], now: dt.datetime) -> float | None:
    """The observation if recent, else the forecast for this hour."""
    if good.current_temperature_c is not None and now - good.fetched_at <= 2 * HOUR:
        return good.current_temperature_c
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    for hour in hours:
        if hour.time == this_hour and hour.temperature_c is not None:
            return hour.temperature_c
    return good.current_temperature_c
