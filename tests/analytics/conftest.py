"""Fixtures of the analytics tests: recorded weather responses served from 127.0.0.1."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest

from analytics import http
from tests.conftest import testdata

NWS_ROUTES = {
    "/points/30,-85": "points.json",
    "/gridpoints/TAE/58,65": "detailed_forecast.json",
    "/gridpoints/TAE/58,65/forecast/hourly": "gridpoints_forecast_hourly_si.json",
    "/gridpoints/TAE/58,65/stations": "gridpoints_stations.json",
    "/stations/KCMH/observations/latest": "stations_observations_latest.json",
}
OPEN_METEO = "open_meteo/linecast/open_meteo_forecast_toronto_2026-03.json"
NWS_OBSERVATION = "nws/pynws/stations_observations_latest.json"
NWS_OBSERVATIONS = "/stations/KCMH/observations"
HOUR = dt.timedelta(hours=1)


@dataclass
class WeatherServer:
    """Routes request paths (query ignored) to bodies; a route set to an int answers that
    status. `requests` records every path asked for."""

    url: str
    routes: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    cache_control: str = "no-cache"

    def load(self, path: str, relative: str) -> None:
        self.routes[path] = json.loads(testdata(f"weather_api/{relative}").read_text())

    def json(self, path: str) -> Any:
        return self.routes[path]


def _handler(server: WeatherServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, query = urlsplit(self.path).path, urlsplit(self.path).query
            server.requests.append(path)
            server.queries.append(query)
            server.user_agents.append(self.headers.get("User-Agent", ""))
            body = server.routes.get(path, 404)
            if isinstance(body, int):
                self.send_response(body)
                self.end_headers()
                return
            # The recordings link to api.weather.gov; point those links back at this server.
            text = json.dumps(body).replace("https://api.weather.gov", server.url)
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/geo+json")
            self.send_header("Cache-Control", server.cache_control)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def weather_server(settings) -> Iterator[WeatherServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(WeatherServer("")))
    state = WeatherServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.NWS_API_URL = state.url
    settings.OPEN_METEO_API_URL = state.url
    settings.WEATHER_TIMEOUT_S = 3
    http.clear_cache()
    yield state
    httpd.shutdown()
    httpd.server_close()
    http.clear_cache()


@pytest.fixture
def nws(weather_server: WeatherServer) -> WeatherServer:
    for path, name in NWS_ROUTES.items():
        weather_server.load(path, f"nws/pynws/{name}")
    return weather_server


@pytest.fixture
def open_meteo(weather_server: WeatherServer) -> WeatherServer:
    weather_server.load("/v1/forecast", OPEN_METEO)
    return weather_server


@dataclass(frozen=True)
class Override:
    """Metric values for some hours of a derived Open-Meteo response. `hours` are offsets from
    the hour `now` is in (0 is that hour, −1 the one before; None is every hour); a value left
    None keeps what the response had."""

    hours: Iterable[int] | None = None
    temperature_c: float | None = None
    dew_point_c: float | None = None
    precipitation_mm: float | None = None
    snowfall_cm: float | None = None
    snow_depth_cm: float | None = None
    weather_code: int | None = None


# Override field → (Open-Meteo series, metric value → the recording's imperial unit).
IMPERIAL = {
    "temperature_c": ("temperature_2m", lambda c: round(c * 9 / 5 + 32, 2)),
    "dew_point_c": ("dew_point_2m", lambda c: round(c * 9 / 5 + 32, 2)),
    "precipitation_mm": ("precipitation", lambda mm: mm / 25.4),
    "snowfall_cm": ("snowfall", lambda cm: cm / 2.54),
    "snow_depth_cm": ("snow_depth", lambda cm: cm / 30.48),
    "weather_code": ("weather_code", lambda code: code),
}


def derived_open_meteo(now: dt.datetime, overrides: Iterable[Override] = ()) -> dict[str, Any]:
    """DERIVED from the recorded Toronto response: what `/v1/forecast` with `past_days=3` and
    `forecast_days=2` would answer at `now`. The recording's hourly values are kept in order
    and in its units (°F, inch) but re-timed to UTC hours from midnight three days before `now`
    to the end of tomorrow; `dew_point_2m`, `snowfall` and `snow_depth` (ft), which the
    recording lacks, are added as null; then `overrides` apply in order, later ones winning.
    The current temperature is that of the hour `now` is in."""
    data = json.loads(testdata(f"weather_api/{OPEN_METEO}").read_text())
    this_hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    first = this_hour.replace(hour=0) - dt.timedelta(days=3)
    count = 5 * 24
    hourly = {name: values[:count] for name, values in data["hourly"].items()}
    hourly["time"] = [f"{first + i * HOUR:%Y-%m-%dT%H:%M}" for i in range(count)]
    for name in ("dew_point_2m", "snowfall", "snow_depth"):
        hourly[name] = [None] * count
    data["hourly_units"].update(dew_point_2m="°F", snowfall="inch", snow_depth="ft")
    data.update(timezone="UTC", timezone_abbreviation="UTC", utc_offset_seconds=0, hourly=hourly)
    data.pop("daily", None)
    data.pop("daily_units", None)
    now_index = (this_hour - first) // HOUR
    for override in overrides:
        offsets = range(-now_index, count - now_index) if override.hours is None else override.hours
        for offset in offsets:
            assert 0 <= now_index + offset < count, f"hour {offset} is outside the response"
            for name, (series, convert) in IMPERIAL.items():
                value = getattr(override, name)
                if value is not None:
                    hourly[series][now_index + offset] = convert(value)
    data["current"].update(
        time=f"{this_hour:%Y-%m-%dT%H:%M}", temperature_2m=hourly["temperature_2m"][now_index]
    )
    return data


def snowless_warm_days(now: dt.datetime) -> dict[str, Any]:
    """DERIVED from the recorded Toronto response (see `derived_open_meteo`): every hour, past
    and future, at +15 °C with a 5 °C dew point, mainly clear (code 1), no precipitation, no
    snowfall and no snow on the ground: three snowless days at +15 °C."""
    return derived_open_meteo(
        now,
        [
            Override(
                temperature_c=15,
                dew_point_c=5,
                precipitation_mm=0,
                snowfall_cm=0,
                snow_depth_cm=0,
                weather_code=1,
            )
        ],
    )


def freezing_rain(now: dt.datetime) -> dict[str, Any]:
    """DERIVED from the recorded Toronto response (see `derived_open_meteo`): dry and overcast
    at −3 °C (code 3, no snow on the ground), except freezing rain (code 67, 1 mm an hour at
    −1 °C, dew point −1.5 °C) in the 3 hours up to `now` and the 6 hours after, so the history
    has freezing rain and the forecast gives an ice alert from the hour `now` is in."""
    dry = Override(
        temperature_c=-3,
        dew_point_c=-6,
        precipitation_mm=0,
        snowfall_cm=0,
        snow_depth_cm=0,
        weather_code=3,
    )
    rain = Override(
        range(-2, 7), temperature_c=-1, dew_point_c=-1.5, precipitation_mm=1, weather_code=67
    )
    return derived_open_meteo(now, [dry, rain])


def derived_observations(observations: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """DERIVED from the one recorded observation (KFLL, 22.8 °C, "Mostly Cloudy", nothing
    falling): a FeatureCollection as `/stations/{id}/observations` answers, one copy of the
    recording per item. Each item gives `timestamp` (datetime) and may change `temperature_c`,
    `dew_point_c`, `precipitation_mm` (stored in the recording's unit, metres), `text`,
    `present_weather` (a list, as the API gives it) and `snow_depth_cm` (added in metres)."""
    recorded = json.loads(testdata(f"weather_api/{NWS_OBSERVATION}").read_text())
    features = []
    for item in observations:
        feature = copy.deepcopy(recorded)
        properties = feature["properties"]
        stamp = item["timestamp"].astimezone(dt.UTC).isoformat()
        feature["id"] = properties["@id"] = (
            f"https://api.weather.gov/stations/KFLL/observations/{stamp}"
        )
        properties["timestamp"] = stamp
        if "temperature_c" in item:
            properties["temperature"]["value"] = item["temperature_c"]
        if "dew_point_c" in item:
            properties["dewpoint"]["value"] = item["dew_point_c"]
        if "precipitation_mm" in item:
            mm = item["precipitation_mm"]
            properties["precipitationLastHour"]["value"] = None if mm is None else mm / 1000
        if "text" in item:
            properties["textDescription"] = item["text"]
        if "present_weather" in item:
            properties["presentWeather"] = item["present_weather"]
        if "snow_depth_cm" in item:
            properties["snowDepth"] = {
                "unitCode": "wmoUnit:m",
                "value": item["snow_depth_cm"] / 100,
            }
        del feature["@context"]
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}


def image(relative: str) -> Path:
    return testdata(f"road_images/{relative}")


def read_image(path: Path) -> np.ndarray:
    """`cv2.imread`, failing loudly instead of returning None when the file is unreadable."""
    frame = cv2.imread(str(path))
    assert frame is not None, f"cannot read image {path}"
    return frame
