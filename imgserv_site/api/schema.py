from __future__ import annotations

from collections.abc import Callable
from typing import Any

Endpoint = tuple[str, str, str, Callable[..., Any]]


def only_api_paths(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    """drf-spectacular preprocessing hook: document /api/ only. /status, /analytics and the
    viewer are DRF views too, but their contract is the pages and the README, not the API."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]
