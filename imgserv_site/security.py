"""Site-wide security: the headers on every response, and admin login throttling.

These two belong to no app (they cover every page and every password login), so they live in
the top layer, next to the settings they read.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
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


def failure_key(request: HttpRequest | None, username: str) -> str:
    # Hashed so that user names typed at the login form are not kept in the cache as written.
    ident = f"{client_address(request)}\n{username.casefold()}".encode()
    return "login-failures:" + hashlib.sha256(ident).hexdigest()


def is_locked(key: str) -> bool:
    return int(cache.get(key, 0)) >= settings.LOGIN_FAILURE_LIMIT


def record_failure(key: str) -> int:
    timeout = settings.LOGIN_LOCKOUT_MINUTES * 60
    cache.add(key, 0, timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        count = 1
    if count >= settings.LOGIN_FAILURE_LIMIT:
        # The lockout runs from the last failure, not the first.
        cache.set(key, count, timeout)
    return count


class LockoutModelBackend(ModelBackend):
    """Django's user/password check, refused for LOGIN_LOCKOUT_MINUTES once one client has
    failed LOGIN_FAILURE_LIMIT times for one user name.

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
        name = username or kwargs.get(get_user_model().USERNAME_FIELD) or ""
        key = failure_key(request, str(name))
        if is_locked(key):
            logger.warning(
                "Login refused: too many failures for one user name from %s",
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
        else:
            cache.delete(key)
        return user
