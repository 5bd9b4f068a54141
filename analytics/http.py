"""The one door to outside HTTP for analytics: JSON GETs with a timeout, a User-Agent that
says who we are (api.weather.gov requires one), and a cache that honours the server's own
Cache-Control max-age or Expires, so a camera refreshing every few minutes does not hammer
the weather services. Tests point the base URLs at a local server and use the same code.
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

USER_AGENT = "imgserv/0.1 (+https://github.com/imgserv/imgserv; ops contact)"
TIMEOUT_S = 10.0
MAX_AGE = re.compile(r"max-age=(\d+)")


class HttpError(Exception):
    """A request failed; `status` is the HTTP status, or None when no response came."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Entry:
    data: Any
    expires: float


_cache: dict[str, _Entry] = {}
_lock = threading.Lock()


def get_json(url: str, accept: str = "application/json") -> Any:
    """GET `url` and decode JSON, from the cache while the server says it is fresh."""
    now = time.time()
    with _lock:
        entry = _cache.get(url)
        if entry and entry.expires > now:
            return entry.data
    data, lifetime = _fetch(url, accept)
    if lifetime > 0:
        with _lock:
            _cache[url] = _Entry(data, now + lifetime)
    return data


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _fetch(url: str, accept: str) -> tuple[Any, float]:
    agent = getattr(settings, "WEATHER_USER_AGENT", USER_AGENT)
    timeout = getattr(settings, "WEATHER_TIMEOUT_S", TIMEOUT_S)
    request = urllib.request.Request(url, headers={"User-Agent": agent, "Accept": accept})
    # Messages reach /status and the admin: they name the service, not the request URL.
    service = urlsplit(url).netloc
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            lifetime = cache_lifetime(
                response.headers.get("Cache-Control"), response.headers.get("Expires")
            )
    except urllib.error.HTTPError as exc:
        raise HttpError(f"{service} answered HTTP {exc.code}", exc.code) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        plain = getattr(reason, "strerror", None) or str(reason)
        raise HttpError(f"{service} could not be reached: {plain}") from None
    try:
        return json.loads(body), lifetime
    except ValueError:
        raise HttpError(f"{service} did not answer JSON") from None


def cache_lifetime(cache_control: str | None, expires: str | None) -> float:
    """Seconds a response may be reused: max-age wins over Expires, no-store/no-cache is 0."""
    if cache_control:
        lowered = cache_control.lower()
        if "no-store" in lowered or "no-cache" in lowered:
            return 0.0
        match = MAX_AGE.search(lowered)
        if match:
            return float(match.group(1))
    if expires:
        try:
            when = email.utils.parsedate_to_datetime(expires)
        except (TypeError, ValueError):
            return 0.0
        return max(0.0, when.timestamp() - time.time())
    return 0.0
