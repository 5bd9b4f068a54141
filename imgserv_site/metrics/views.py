"""GET /metrics, for Prometheus: from METRICS_ALLOWED_IPS, or with the bearer METRICS_TOKEN."""

from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from imgserv_site.metrics.collectors import ProcessTrees, SiteState
from imgserv_site.security import client_address


def may_read(request: HttpRequest) -> bool:
    token = str(settings.METRICS_TOKEN)
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if "x-forwarded-for" in request.headers and not settings.TRUSTED_PROXY:
        # Relayed by a proxy we were not told to believe (nginx in front, say): the address is
        # the proxy's, 127.0.0.1 for every visitor, so it proves nothing. The token still works.
        return False
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(
        address in ipaddress.ip_network(allowed, strict=False)
        for allowed in settings.METRICS_ALLOWED_IPS
    )


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read(request):
        return HttpResponse(
            "Forbidden: /metrics is open to METRICS_ALLOWED_IPS or the METRICS_TOKEN bearer.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    registry = CollectorRegistry()
    registry.register(ProcessTrees(Path(settings.METRICS_DIR)))
    registry.register(SiteState())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
