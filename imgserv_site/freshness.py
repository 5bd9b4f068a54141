"""Public pages built once per change, not once per request.

What `/status`, `/api/status`, the viewer and the iframe show changes when a frame is stored,
a sequence built, a reading or a health change recorded, or a camera edited; on the day it
snows, thousands of visitors ask in between. Each change sets a new *data version* in the
shared cache (files under DATA_DIR in embedded mode, so the worker's changes reach the web
process; Redis in scale-out). The web process builds each page once per version, and at
least every `REBUILD_AFTER` seconds so its ages ("updated 2 min ago") and times stay true,
and replays the bytes it built, headers and all, to every anonymous request in between.

It sits in front of Django, as an ASGI layer (`FreshPages`): a page served from it costs no
thread hop, middleware, database query or template. Only anonymous GET and HEAD requests
are served from it (no session cookie, no Authorization header); a signed-in operator always
gets a fresh page. The pages the REST framework rate-limits (/status, /api/status) keep a
limit of PUBLIC_RATE per client, counted here. Behind nginx (MEDIA_ACCEL_PREFIX) the
`/sequence/` answers are a few headers telling nginx which file to send, kept the same way.
"""

from __future__ import annotations

import collections
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import caches

SHARED_CACHE = "shared"
VERSION_KEY = "data-version"
REBUILD_AFTER = 5.0
# The shared version is read at most this often per process: changes show within it.
VERSION_CHECK = 0.25
# Pages kept per process; a path with a query (?camera=…) counts as its own page.
MAX_PAGES = 200
CACHED_TYPES = (b"application/json", b"text/html")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]


def mark_changed(**kwargs: Any) -> None:
    """A receiver: something public changed, so every page is built afresh once."""
    caches[SHARED_CACHE].set(VERSION_KEY, uuid.uuid4().hex, None)


@dataclass(frozen=True)
class Built:
    version: str
    at: float
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


@dataclass
class Limits:
    """PUBLIC_RATE per client for the limited pages, in this process's memory."""

    hits: dict[str, collections.deque[float]] = field(default_factory=dict)

    def wait(self, client: str, now: float) -> float:
        """Seconds until `client` may ask again; 0 when it may now (and the ask is counted)."""
        count, period = rate(str(settings.PUBLIC_RATE))
        recent = self.hits.setdefault(client, collections.deque())
        while recent and recent[0] <= now - period:
            recent.popleft()
        if len(recent) >= count:
            return recent[0] + period - now
        recent.append(now)
        if len(self.hits) > 10_000:
            self.hits = {client: recent}
        return 0.0


def rate(text: str) -> tuple[int, float]:
    count, _, unit = text.partition("/")
    seconds = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}[unit[:1] or "m"]
    return int(count), seconds


class FreshPages:
    """The ASGI layer: serves the pages of settings.FRESH_PAGES from what it built last."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pages: dict[str, Built] = {}
        self.limits = Limits()
        self.version = ""
        self.version_read_at = -VERSION_CHECK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = page_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        version = self.current_version()
        built = self.pages.get(key)
        if built and built.version == version and abs(time.time() - built.at) < REBUILD_AFTER:
            if scope["path"] in settings.FRESH_PAGES_LIMITED:
                wait = self.limits.wait(client(scope), time.monotonic())
                if wait > 0:
                    await throttled(built, send, wait)
                    return
            await replay(built, scope, send)
            return
        await self.app(
            scope, receive, Recorder(send, lambda built: self.keep(key, built), version).send
        )

    def keep(self, key: str, built: Built) -> None:
        if len(self.pages) >= MAX_PAGES:
            self.pages.clear()
        self.pages[key] = built

    def current_version(self) -> str:
        now = time.monotonic()
        if now - self.version_read_at >= VERSION_CHECK:
            self.version = str(caches[SHARED_CACHE].get(VERSION_KEY, ""))
            self.version_read_at = now
        return self.version


def page_key(scope: Scope) -> str | None:
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return None
    path = scope["path"]
    media = bool(settings.MEDIA_ACCEL_PREFIX) and path.startswith("/sequence/")
    if not media and not fresh_page(path):
        return None
    headers = dict(scope["headers"])
    cookies = headers.get(b"cookie", b"").decode("latin-1")
    if b"authorization" in headers or f"{settings.SESSION_COOKIE_NAME}=" in cookies:
        return None
    accept = headers.get(b"accept", b"").decode("latin-1")
    # What varies the bytes: HTML or JSON (DRF's browsable API), WebP or GIF (the loop).
    kind = ("html" if "text/html" in accept else "json") + (
        "-webp" if "image/webp" in accept else ""
    )
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{kind} {path}?{query}"


def fresh_page(path: str) -> bool:
    """Listed exactly, or under a listed folder ("/camera/" covers every camera's page)."""
    return any(
        path == page or (len(page) > 1 and page.endswith("/") and path.startswith(page))
        for page in settings.FRESH_PAGES
    )


def client(scope: Scope) -> str:
    """The client as the rate limits see it: the last X-Forwarded-For hop behind our own
    proxy (TRUSTED_PROXY), else the connection's address."""
    if settings.TRUSTED_PROXY:
        forwarded = dict(scope["headers"]).get(b"x-forwarded-for", b"").decode("latin-1")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    peer = scope.get("client") or ("", 0)
    return str(peer[0])


class Recorder:
    """Passes Django's answer on, and hands a copy to `keep` once its last byte is sent (the
    application may go on for a while after that, closing up)."""

    def __init__(self, send: Send, keep: Callable[[Built], None], version: str) -> None:
        self.downstream = send
        self.keep = keep
        self.version = version
        self.status = 0
        self.headers: tuple[tuple[bytes, bytes], ...] = ()
        self.chunks: list[bytes] = []
        self.complete = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = tuple((bytes(k), bytes(v)) for k, v in message.get("headers", ()))
        elif message["type"] == "http.response.body":
            self.chunks.append(bytes(message.get("body", b"")))
            self.complete = not message.get("more_body", False)
        await self.downstream(message)
        if self.complete and self.keepable():
            self.keep(self.built(self.version))

    def keepable(self) -> bool:
        names = {k.lower(): v for k, v in self.headers}
        content_type = names.get(b"content-type", b"")
        accel = b"x-accel-redirect" in names
        return (
            self.status == 200
            and self.complete
            and b"set-cookie" not in names
            and (accel or content_type.startswith(CACHED_TYPES))
        )

    def built(self, version: str) -> Built:
        headers = tuple((k, v) for k, v in self.headers if k.lower() != b"content-length")
        return Built(version, time.time(), self.status, headers, b"".join(self.chunks))


async def replay(built: Built, scope: Scope, send: Send) -> None:
    headers = [*built.headers, (b"content-length", str(len(built.body)).encode())]
    await send({"type": "http.response.start", "status": built.status, "headers": headers})
    body = b"" if scope["method"] == "HEAD" else built.body
    await send({"type": "http.response.body", "body": body})


# The page's own headers a refusal keeps: what protects the browser, not what describes it.
SECURITY_HEADERS = (
    b"content-security-policy",
    b"permissions-policy",
    b"referrer-policy",
    b"x-content-type-options",
    b"x-frame-options",
    b"cross-origin-opener-policy",
    b"strict-transport-security",
)


async def throttled(built: Built, send: Send, wait: float) -> None:
    """The REST framework's 429, with the page's security headers."""
    seconds = max(1, int(wait + 0.999))
    body = (
        f'{{"detail":"Request was throttled. Expected available in {seconds} '
        f'second{"s" * (seconds != 1)}."}}'
    ).encode()
    kept = [(k, v) for k, v in built.headers if k.lower() in SECURITY_HEADERS]
    headers = [
        *kept,
        (b"content-type", b"application/json"),
        (b"retry-after", str(seconds).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
