"""Site-wide security: the headers on every response, admin login throttling, and who may
open the live websocket.

These belong to no app (they cover every page, every password login and every socket), so they
live in the top layer, next to the settings they read.
"""

from __future__ import annotations

import hashlib
import io
import logging
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import DisallowedHost, PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase
from django.http.request import split_domain_port
from django.utils.deprecation import MiddlewareMixin
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

# Scripts and styles only from our own files: an injected <script> or inline handler does not
# run. The live viewer streams over a websocket (connect-src) and swaps loops via blob: URLs.
CSP: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:", "blob:"),
    "media-src": ("'self'", "blob:"),
    "connect-src": ("'self'", "ws:", "wss:"),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}
# The viewer needs none of these; saying so stops an embedding page from delegating them.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


def content_security_policy(response: HttpResponseBase) -> str:
    """The policy for one response.

    A view marked `xframe_options_exempt` (the iframe views, in urls.py) may be framed by the
    configured origins. A view may add sources through `response.csp_extra`, a mapping of
    directive to extra sources (the API docs page uses it for its one inline style's hash).
    """
    directives = dict(CSP)
    if getattr(response, "xframe_options_exempt", False):
        directives["frame-ancestors"] = ("'self'", *settings.IFRAME_ALLOWED_ORIGINS)
    for name, sources in getattr(response, "csp_extra", {}).items():
        directives[name] = (*directives.get(name, ()), *sources)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class SecurityHeadersMiddleware(MiddlewareMixin):
    """CSP and Permissions-Policy on every response. Django's SecurityMiddleware adds
    X-Content-Type-Options, Referrer-Policy and HSTS; XFrameOptionsMiddleware X-Frame-Options."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response["Content-Security-Policy"] = content_security_policy(response)
        response["Permissions-Policy"] = PERMISSIONS_POLICY
        return response


def client_address(request: HttpRequest | None) -> str:
    """The client as the rate limits see it (REST_FRAMEWORK's NUM_PROXIES decides whether
    X-Forwarded-For is believed), so one setting governs both."""
    if request is None:
        return "unknown"
    return str(BaseThrottle().get_ident(request))  # type: ignore[arg-type]


def _digest(*parts: str) -> str:
    # Hashed so that user names typed at the login form are not kept in the cache as written.
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def failure_key(request: HttpRequest | None, username: str) -> str:
    """Failures of one user name from one client address."""
    return "login-failures:" + _digest(client_address(request), username.casefold())


def user_failure_key(username: str) -> str:
    """Failures of one user name from every address together."""
    return "login-failures-user:" + _digest(username.casefold())


def known_address_key(request: HttpRequest | None, username: str) -> str:
    """Set when this user name logged in from this address: the user-wide lockout spares it."""
    return "login-known:" + _digest(client_address(request), username.casefold())


# How long an address that logged in stays exempt from the user-wide lockout.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600


def is_locked(key: str, limit: int | None = None) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT if limit is None else limit
    return int(cache.get(key, 0)) >= limit


def record_failure(key: str, limit: int | None = None) -> int:
    limit = settings.LOGIN_FAILURE_LIMIT if limit is None else limit
    timeout = settings.LOGIN_LOCKOUT_MINUTES * 60
    cache.add(key, 0, timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        count = 1
    if count >= limit:
        # The lockout runs from the last failure, not the first.
        cache.set(key, count, timeout)
    return count


class LockoutModelBackend(ModelBackend):
    """Django's user/password check, refused for LOGIN_LOCKOUT_MINUTES once

    - one client has failed LOGIN_FAILURE_LIMIT times for one user name, or
    - one user name has failed LOGIN_USER_FAILURE_LIMIT times from all addresses together
      (a guesser spreading over many addresses). This one spares addresses that logged in as
      that user before, so a guesser cannot lock the operator out of their own machine.

    Refusing in the backend covers every password login (the admin's and any later one). The
    refusal looks like a wrong password, so it tells a guesser nothing; it is logged.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if password is None:  # not a password login (another backend's credentials)
            return None
        name = str(username or kwargs.get(get_user_model().USERNAME_FIELD) or "")
        key, user_key = failure_key(request, name), user_failure_key(name)
        user_limit = settings.LOGIN_USER_FAILURE_LIMIT
        if is_locked(key):
            logger.warning(
                "Login refused: too many failures for one user name from %s",
                client_address(request),
            )
            raise PermissionDenied
        if is_locked(user_key, user_limit) and not cache.get(known_address_key(request, name)):
            logger.warning(
                "Login refused: too many failures for one user name from many addresses; "
                "this attempt from %s",
                client_address(request),
            )
            raise PermissionDenied
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            if record_failure(key) == settings.LOGIN_FAILURE_LIMIT:
                logger.warning(
                    "Login locked for %d min after %d failures from %s",
                    settings.LOGIN_LOCKOUT_MINUTES,
                    settings.LOGIN_FAILURE_LIMIT,
                    client_address(request),
                )
            if record_failure(user_key, user_limit) == user_limit:
                logger.warning(
                    "Login locked for %d min for one user name after %d failures from all "
                    "addresses (addresses it logged in from before are spared)",
                    settings.LOGIN_LOCKOUT_MINUTES,
                    user_limit,
                )
        else:
            # The user-wide count stays: a login elsewhere does not reset a guesser's tally.
            cache.delete(key)
            cache.set(known_address_key(request, name), 1, KNOWN_ADDRESS_SECONDS)
        return user


def websocket_request(scope: dict[str, Any]) -> HttpRequest:
    """The websocket handshake as a Django request, so that Host, the proxy headers and
    ALLOWED_HOSTS are read exactly as for a page (`get_host`, `is_secure`)."""
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    # The query string plays no part, and Django would fail on one that is not UTF-8.
    handshake = {**scope, "method": "GET", "scheme": scheme, "query_string": b""}
    return ASGIRequest(handshake, io.BytesIO())


def _origin(scheme: str, netloc: str) -> tuple[str, str, int]:
    """(scheme, host, port), with the scheme's default port when none is written."""
    domain, port = split_domain_port(netloc.lower())
    return scheme, domain, int(port) if port else (443 if scheme == "https" else 80)


def _parsed_origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url.strip().lower())
    return _origin(parts.scheme, parts.netloc)


def websocket_refusal(scope: dict[str, Any]) -> str | None:
    """Why this handshake must be refused, or None to let it in.

    - A Host not in ALLOWED_HOSTS: refused, as for any page.
    - No Origin header: let in. The feed is public and read-only; Origin exists to keep other
      sites' pages out, and browsers always send it. Scripts and home automation do not.
    - An Origin: it must be this site's own (scheme, host and port, as the Host header says)
      or one of CSRF_TRUSTED_ORIGINS (exactly), the rule Django applies to a form POST.
    """
    request = websocket_request(scope)
    try:
        host = request.get_host()
    except DisallowedHost:
        return "Host not in ALLOWED_HOSTS"
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    try:
        given = _parsed_origin(origin)
        allowed = {_origin(request.scheme or "http", host)}
        allowed.update(_parsed_origin(trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS)
    except ValueError:  # urlsplit: an unbalanced [ in an IPv6 address
        return f"malformed Origin {origin[:100]!r}"
    return None if given in allowed else f"foreign Origin {origin[:100]!r}"


class WebsocketOriginValidator:
    """ASGI middleware in front of the websocket routes: refuses a handshake (403) that
    `websocket_refusal` refuses, with one log line and no traceback."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        reason = websocket_refusal(scope)
        if reason is None:
            return await self.application(scope, receive, send)
        logger.warning("Websocket refused for %s: %s", scope.get("path", "")[:100], reason)
        return await WebsocketDenier()(scope, receive, send)
