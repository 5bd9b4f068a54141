"""Public pages built once per change, not once per request.

What `/status`, `/api/status`, the viewer and the iframe show changes when a frame is stored,
a sequence built, a reading or a health change recorded, or a camera edited; on the day it
snows, thousands of visitors ask in between. Each change sets a new *data version* in the
shared cache (files under DATA_DIR in embedded mode, so the worker's changes reach the web
process; Redis in scale-out). A web process builds each page once per version, and at least
every `REBUILD_AFTER` seconds so its ages ("updated 2 min ago") and times stay true, and
serves the bytes it built to every anonymous request in between, before sessions,
authentication or the view run.

Only anonymous GET and HEAD requests are served from it (no session cookie, no
Authorization header): a signed-in operator always gets a fresh page. The pages the REST
framework rate-limits (/status, /api/status) keep their limit: it is counted here too.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import Throttled

from imgserv_site.api.throttles import PublicRateThrottle

SHARED_CACHE = "shared"
VERSION_KEY = "data-version"
REBUILD_AFTER = 5.0
# Pages kept per process; a path with a query (?camera=…) counts as its own page.
MAX_PAGES = 200
# What varies the bytes: JSON for scripts, HTML for browsers (DRF's browsable API).
CACHED_TYPES = ("application/json", "text/html")


def mark_changed(**kwargs: Any) -> None:
    """A receiver: something public changed, so every page is built afresh once."""
    caches[SHARED_CACHE].set(VERSION_KEY, uuid.uuid4().hex, None)


@dataclass(frozen=True)
class Built:
    version: str
    at: float
    status: int
    content: bytes
    headers: tuple[tuple[str, str], ...]


class FreshPagesMiddleware:
    """Serves the public pages listed in settings.FRESH_PAGES from the per-process copy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.pages: dict[str, Built] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self.key(request)
        if key is None:
            return self.get_response(request)
        version = str(caches[SHARED_CACHE].get(VERSION_KEY, ""))
        built = self.pages.get(key)
        if built and built.version == version and abs(time.time() - built.at) < REBUILD_AFTER:
            if request.path in settings.FRESH_PAGES_LIMITED:
                throttled = rate_limited(request)
                if throttled is not None:
                    return throttled
            return replay(built, request)
        response = self.get_response(request)
        self.keep(key, version, response)
        return response

    def key(self, request: HttpRequest) -> str | None:
        if request.method not in ("GET", "HEAD") or not fresh_page(request.path):
            return None
        if settings.SESSION_COOKIE_NAME in request.COOKIES or "authorization" in request.headers:
            return None
        accept = request.headers.get("Accept", "")
        kind = "html" if "text/html" in accept else "json"
        return f"{kind} {request.get_full_path()}"

    def keep(self, key: str, version: str, response: HttpResponse) -> None:
        content_type = response.get("Content-Type", "")
        if (
            response.status_code != 200
            or response.streaming
            or not content_type.startswith(CACHED_TYPES)
            or response.has_header("Set-Cookie")
        ):
            return
        if len(self.pages) >= MAX_PAGES:
            self.pages.clear()
        headers = tuple((k, v) for k, v in response.items() if k.lower() != "content-length")
        self.pages[key] = Built(
            version, time.time(), response.status_code, response.content, headers
        )


def fresh_page(path: str) -> bool:
    """Listed exactly, or under a listed folder ("/camera/" covers every camera's page)."""
    return any(
        path == page or (len(page) > 1 and page.endswith("/") and path.startswith(page))
        for page in settings.FRESH_PAGES
    )


def rate_limited(request: HttpRequest) -> HttpResponse | None:
    """The REST framework's public limit (PUBLIC_RATE per address), counted for a page served
    from the copy; the 429 it would have given, or None."""
    throttle = PublicRateThrottle()
    anonymous = SimpleNamespace(user=AnonymousUser(), META=request.META, headers=request.headers)
    if throttle.allow_request(anonymous, None):  # type: ignore[arg-type]
        return None
    wait = throttle.wait()
    response = JsonResponse({"detail": str(Throttled(wait).detail)}, status=429)
    if wait is not None:
        response["Retry-After"] = str(math.ceil(wait))
    return response


def replay(built: Built, request: HttpRequest) -> HttpResponse:
    response = HttpResponse(b"" if request.method == "HEAD" else built.content, status=built.status)
    for name, value in built.headers:
        response[name] = value
    response["Content-Length"] = str(len(built.content))
    return response
