from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

# Loaded by DRF's settings while rest_framework.views is still importing: types only.
if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class PublicRateThrottle(SimpleRateThrottle):
    """PUBLIC_RATE per client: the signed-in user, else the address. Staff are not limited,
    so an operator's tools keep working while the public is being held back."""

    scope = "public"

    def get_rate(self) -> str:
        # Read per request (not frozen at import like DRF's THROTTLE_RATES) so a changed
        # setting, in tests too, takes effect.
        return str(settings.PUBLIC_RATE)

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.user and request.user.is_staff:
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        user = request.user
        ident = f"user-{user.pk}" if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
