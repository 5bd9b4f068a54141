from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from imgserv_site.health import run_checks


@require_safe
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database, a worker and the disk are fine; 503 naming what is not."""
    checks = run_checks()
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
    )
