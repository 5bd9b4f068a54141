"""The weather behind each camera: the past hours of every forecast refresh, stored as
`WeatherHour` rows, and read back as `WeatherEvidence` for the road-condition classifier.

A sum over a window is only given when at least 80 % of the window's hours report the value:
a sum over missing hours is not "nothing fell", it is "not known".
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

from analytics.evidence import WeatherEvidence
from analytics.models import WeatherHour
from analytics.weather.base import Forecast
from cameras.models import Camera

if TYPE_CHECKING:
    from analytics.alerts import ForecastState

logger = logging.getLogger(__name__)

HOUR = dt.timedelta(hours=1)
KEEP = dt.timedelta(days=10)
COVERAGE = 0.8
# How old an hour may be and still give the temperature (and dew point), or the snow depth.
RECENT_STATE = dt.timedelta(hours=2)
RECENT_DEPTH = dt.timedelta(hours=6)
VALUES = [
    "provider",
    "temperature_c",
    "dew_point_c",
    "precipitation_mm",
    "snowfall_cm",
    "snow_depth_cm",
    "weather_code",
    "freezing_precipitation",
    "description",
]


def store_history(camera: Camera, forecast: Forecast, now: dt.datetime) -> int:
    """Upsert the forecast's past hours (the newer fetch of an hour wins), drop hours older
    than ten days, and return how many hours were written. An hour the model refuses (a
    negative amount) is left out, with a warning."""
    rows: dict[dt.datetime, WeatherHour] = {}
    for past in forecast.history:
        time = _hour_of(past.time)
        if not now - KEEP <= time <= now:
            continue
        row = WeatherHour(
            camera=camera,
            time=time,
            provider=forecast.provider,
            temperature_c=past.temperature_c,
            dew_point_c=past.dew_point_c,
            precipitation_mm=past.precipitation_mm,
            snowfall_cm=past.snowfall_cm,
            snow_depth_cm=past.snow_depth_cm,
            weather_code=past.weather_code,
            freezing_precipitation=past.freezing_precipitation,
            description=past.description[:100],
        )
        try:
            # bulk_create skips save(), so validate here as ValidatedModel would.
            row.full_clean(exclude=["camera"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            logger.warning("%s: weather hour %s refused: %s", camera, time, exc.messages)
            continue
        rows[time] = row
    WeatherHour.objects.bulk_create(
        list(rows.values()),
        update_conflicts=True,
        unique_fields=["camera", "time"],
        update_fields=VALUES,
    )
    WeatherHour.objects.filter(camera=camera, time__lt=now - KEEP).delete()
    return len(rows)


def evidence_for(camera: Camera, at: dt.datetime) -> WeatherEvidence:
    """What the weather says at `at`: the camera's stored hours up to `at` and, when `at` is
    within the last hour, the forecast's current temperature where the hours give none."""
    past = camera.weather_hours.filter(time__gt=at - 72 * HOUR, time__lte=at)
    hours = list(past.order_by("-time"))
    temperature = _newest(hours, "temperature_c", at - RECENT_STATE)
    dew_point = _newest(hours, "dew_point_c", at - RECENT_STATE)
    source = hours[0].provider if hours else ""
    state = _current_state(camera, at) if temperature is None or dew_point is None else None
    if state is not None:
        if temperature is None and state.temperature_c is not None:
            temperature, source = state.temperature_c, source or state.provider
        if dew_point is None:
            this_hour = _hour_of(at)
            dew_point = next((h.dew_point_c for h in state.hours if h.time == this_hour), None)
    if not hours and temperature is None:
        return WeatherEvidence()
    in_12h = _window(hours, at, 12)
    freezing = any(h.freezing_precipitation for h in in_12h) if in_12h else None
    return WeatherEvidence(
        temperature_c=temperature,
        dew_point_c=dew_point,
        snowfall_24h_cm=_sum(hours, at, 24, "snowfall_cm"),
        snowfall_72h_cm=_sum(hours, at, 72, "snowfall_cm"),
        precipitation_6h_mm=_sum(hours, at, 6, "precipitation_mm"),
        precipitation_24h_mm=_sum(hours, at, 24, "precipitation_mm"),
        freezing_precipitation_12h=freezing,
        hours_below_freezing_72h=_hours_below_freezing(hours),
        snow_depth_cm=_newest(hours, "snow_depth_cm", at - RECENT_DEPTH),
        hours_known=len(hours),
        source=source,
    )


def _hour_of(time: dt.datetime) -> dt.datetime:
    return time.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _window(hours: list[WeatherHour], at: dt.datetime, span_hours: int) -> list[WeatherHour]:
    """The hours that started in (at − span, at]: exactly `span_hours` of them when complete."""
    return [h for h in hours if h.time > at - span_hours * HOUR]


def _known(hours: list[WeatherHour], name: str, span_hours: int) -> list[float] | None:
    """The reported values of one field, or None when under 80 % of the span reports it."""
    values = [v for h in hours if (v := getattr(h, name)) is not None]
    return values if len(values) >= COVERAGE * span_hours else None


def _sum(hours: list[WeatherHour], at: dt.datetime, span_hours: int, name: str) -> float | None:
    values = _known(_window(hours, at, span_hours), name, span_hours)
    return None if values is None else round(sum(values), 3)


def _hours_below_freezing(hours: list[WeatherHour]) -> int | None:
    temperatures = _known(hours, "temperature_c", 72)
    return None if temperatures is None else sum(1 for t in temperatures if t <= 0)


def _newest(hours: list[WeatherHour], name: str, since: dt.datetime) -> float | None:
    """The newest reported value of one field among hours (newest first) since `since`."""
    return next((v for h in hours if h.time >= since and (v := getattr(h, name)) is not None), None)


def _current_state(camera: Camera, at: dt.datetime) -> ForecastState | None:
    """The forecast as it stands, when `at` is within the last hour; else None."""
    now = timezone.now()
    if not now - HOUR <= at <= now:
        return None
    # Imported here: alerts imports this module to store the history of each refresh.
    from analytics.alerts import forecast_state

    return forecast_state(camera, now)
