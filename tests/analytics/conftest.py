"""Fixtures of the analytics tests: recorded weather responses served from 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
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


@dataclass
class WeatherServer:
    """Routes request paths (query ignored) to bodies; a route set to an int answers that
    status. `requests` records every path asked for."""

    url: str
    routes: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    cache_control: str = "no-cache"

    def load(self, path: str, relative: str) -> None:
        self.routes[path] = json.loads(testdata(f"weather_api/{relative}").read_text())

    def json(self, path: str) -> Any:
        return self.routes[path]


def _handler(server: WeatherServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            server.requests.append(path)
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


def image(relative: str) -> Path:
    return testdata(f"road_images/{relative}")


def read_image(path: Path) -> np.ndarray:
    """`cv2.imread`, failing loudly instead of returning None when the file is unreadable."""
    frame = cv2.imread(str(path))
    assert frame is not None, f"cannot read image {path}"
    return frame
